"""Admin for topics, subscribers (consent, history and link emails read-only; saved searches listed)
and the suppression list."""

from __future__ import annotations

import csv
from functools import partial

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from papers.forms import CategoryListField, TextListField, TextListsMixin
from papers.models import Topic
from subscribers import services, signup
from subscribers.models import (
    ConsentRecord,
    LinkEmail,
    SavedSearch,
    Subscriber,
    SubscriberEvent,
    Suppression,
)
from subscribers.preferences import MAX_AUTHOR_LENGTH, MAX_AUTHORS, MAX_KEYWORD_LENGTH, MAX_KEYWORDS


@admin.register(Topic)
class TopicAdmin(TextListsMixin, admin.ModelAdmin):
    text_lists = {
        "categories": CategoryListField,
        "include_keywords": partial(
            TextListField,
            help_text="A paper matching any of these matches. Separate with commas or new lines.",
        ),
        "exclude_keywords": partial(
            TextListField,
            help_text="A paper matching any of these never matches. Separate with commas or new lines.",
        ),
    }
    list_display = ("name", "slug", "category_list", "subscriber_count", "position", "active")
    list_editable = ("position", "active")
    search_fields = ("name", "slug", "description")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("live_preview",)

    class Media:
        js = ("js/topic_preview.js",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Topic]:
        return super().get_queryset(request).annotate(subscriber_total=Count("subscribers"))

    def matches_html(self, topic: Topic) -> str:
        """Return what ``topic`` matches today, as HTML (newsletter's admin ranks the papers)."""
        return ""

    @admin.display(description="categories")
    def category_list(self, topic: Topic) -> str:
        return ", ".join(topic.categories)

    @admin.display(description="subscribers", ordering="subscriber_total")
    def subscriber_count(self, topic: Topic) -> int:
        return topic.subscriber_total  # type: ignore[attr-defined]

    @admin.display(description="live preview")
    def live_preview(self, topic: Topic) -> str:
        """The papers of the latest announcement this topic matches; the page's script follows the typing."""
        url = reverse("admin:papers_topic_preview")
        if topic.pk is not None:
            url += f"?topic={topic.pk}"
        return format_html(
            '<div class="pm-topic-preview" data-preview-url="{}" aria-live="polite">{}</div>',
            url,
            self.matches_html(topic) if topic.pk is not None else "Type categories or keywords to preview.",
        )

    def get_urls(self):  # type: ignore[no-untyped-def]
        custom = [
            path(
                "preview/",
                self.admin_site.admin_view(require_GET(self.preview_view)),
                name="papers_topic_preview",
            ),
        ]
        return custom + super().get_urls()

    def preview_view(self, request: HttpRequest) -> HttpResponse:
        """Return what the topic matches with the rules typed on its page, unsaved (an HTML fragment)."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        topic = Topic(pk=_int_or_none(request.GET.get("topic")))
        errors = []
        for name, make in self.text_lists.items():
            try:
                setattr(topic, name, make().clean(request.GET.get(name, "")))
            except ValidationError as error:
                errors.extend(error.messages)
        if errors:
            return HttpResponse(
                format_html_join("", "<p class=errornote>{}</p>", ((e,) for e in errors)), status=400
            )
        return HttpResponse(
            format_html(
                "<p><em>Preview of the rules as typed (not saved yet).</em></p>{}", self.matches_html(topic)
            )
        )


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    max_num = 0
    can_delete = False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ConsentInline(ReadOnlyInline):
    model = ConsentRecord
    fields = (
        "form_id",
        "wording_version",
        "submitted_at",
        "submitted_ip",
        "submitted_user_agent",
        "confirmed_at",
        "confirmed_ip",
    )
    readonly_fields = fields


class EventInline(ReadOnlyInline):
    model = SubscriberEvent
    fields = ("at", "kind", "ip", "detail")
    readonly_fields = fields


class LinkEmailInline(ReadOnlyInline):
    model = LinkEmail
    fields = ("created_at", "kind", "state", "attempts", "retry_after", "sent_at", "last_error")
    readonly_fields = fields


class SavedSearchInline(admin.TabularInline):
    """What a reader asked to be mailed new matches of: listed, and deletable by staff who may.

    The reader adds them on the site; staff only remove one (asked to, or one that misfires).
    Governed by the saved search's own permissions, as consent records are: a role that may view
    subscribers does not see them without ``view_savedsearch``.
    """

    model = SavedSearch
    extra = 0
    max_num = 0
    fields = ("query", "category", "created_at", "search_link")
    readonly_fields = fields
    verbose_name_plural = "saved searches"

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description="category")
    def category(self, search: SavedSearch) -> str:
        return search.category or "any"

    @admin.display(description="on the site")
    def search_link(self, search: SavedSearch) -> str:
        query = {"q": search.query, **({"category": search.category} if search.category else {})}
        return format_html('<a href="{}?{}">Search</a>', reverse("papers:search"), urlencode(query))


@admin.register(Subscriber)
class SubscriberAdmin(TextListsMixin, admin.ModelAdmin):
    # The preference centre's limits.
    text_lists = {
        "keywords": partial(TextListField, max_items=MAX_KEYWORDS, max_item_length=MAX_KEYWORD_LENGTH),
        "excluded_keywords": partial(
            TextListField, max_items=MAX_KEYWORDS, max_item_length=MAX_KEYWORD_LENGTH
        ),
        "authors": partial(TextListField, max_items=MAX_AUTHORS, max_item_length=MAX_AUTHOR_LENGTH),
        "categories": partial(
            CategoryListField,
            help_text="arXiv categories followed directly, separated by commas or new lines, "
            "e.g. cs.CL, hep-th.",
        ),
    }
    list_display = (
        "email",
        "status",
        "cadence",
        "timezone",
        "send_hour",
        "created_at",
        "confirmed_at",
        "preview_link",
    )
    list_filter = ("status", "cadence", "topics", "include_crosslists", "timezone")
    search_fields = ("email",)
    readonly_fields = (
        "email",
        "status",
        "created_at",
        "confirmed_at",
        "unsubscribed_at",
        "suppressed_reason",
        "preview_link",
    )
    filter_horizontal = ("topics",)
    inlines = (SavedSearchInline, ConsentInline, LinkEmailInline, EventInline)
    date_hierarchy = "created_at"
    actions = ("suppress", "reactivate", "resend_confirmation", "export_csv")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # people subscribe themselves, with consent

    def has_export_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("subscribers.export_subscriber")

    @admin.display(description="digest")
    def preview_link(self, subscriber: Subscriber) -> str:
        return format_html(
            '<a href="{}">Preview digest</a>',
            reverse("admin:subscribers_subscriber_preview", args=[subscriber.pk]),
        )

    @admin.action(description="Suppress (never mail again)", permissions=["change"])
    def suppress(self, request: HttpRequest, queryset: QuerySet[Subscriber]) -> None:
        subscribers = list(queryset)
        for subscriber in subscribers:
            services.subscriber_suppress(
                email=subscriber.email,
                reason=Suppression.Reason.MANUAL,
                detail={"by": request.user.get_username()},
            )
        self.message_user(request, f"Suppressed {len(subscribers)} subscriber(s).", messages.SUCCESS)

    @admin.action(description="Reactivate (they must confirm again)", permissions=["change"])
    def reactivate(self, request: HttpRequest, queryset: QuerySet[Subscriber]) -> None:
        chosen = list(queryset)
        asked = sum(signup.subscriber_reactivate(subscriber=s) for s in chosen)
        self.message_user(
            request,
            f"Sent {asked} confirmation link(s); nothing changes until they confirm.",
            messages.SUCCESS,
        )
        if asked < len(chosen):
            self.message_user(
                request,
                f"{len(chosen) - asked} not asked: already active or paused, or their address is "
                "suppressed by a bounce, a complaint or an admin (delete its suppression first).",
                messages.WARNING,
            )

    @admin.action(description="Resend the confirmation email", permissions=["change"])
    def resend_confirmation(self, request: HttpRequest, queryset: QuerySet[Subscriber]) -> None:
        sent = sum(
            signup.confirmation_resend(subscriber=s, request=services.RequestInfo())
            for s in queryset.filter(status=Subscriber.Status.PENDING)
        )
        self.message_user(
            request, f"Resent {sent} confirmation email(s) (pending subscribers only).", messages.SUCCESS
        )

    @admin.action(description="Export selected as CSV", permissions=["export"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Subscriber]) -> StreamingHttpResponse:
        return self._csv(queryset)

    @staticmethod
    def _csv(queryset: QuerySet[Subscriber]) -> StreamingHttpResponse:
        class Echo:
            def write(self, value: str) -> str:
                return value

        writer = csv.writer(Echo())
        header = [
            "email",
            "status",
            "cadence",
            "timezone",
            "send_hour",
            "topics",
            "keywords",
            "excluded_keywords",
            "authors",
            "created_at",
            "confirmed_at",
        ]

        def rows():  # type: ignore[no-untyped-def]
            yield writer.writerow(header)
            for s in queryset.prefetch_related("topics").order_by("pk").iterator(chunk_size=2000):
                yield writer.writerow(
                    [
                        _cell(s.email),
                        s.status,
                        s.cadence,
                        s.timezone,
                        s.send_hour,
                        _cell(" ".join(t.slug for t in s.topics.all())),
                        _cell("; ".join(s.keywords)),
                        _cell("; ".join(s.excluded_keywords)),
                        _cell("; ".join(s.authors)),
                        s.created_at.isoformat(),
                        s.confirmed_at.isoformat() if s.confirmed_at else "",
                    ]
                )

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="subscribers-{timezone.now():%Y%m%d}.csv"'
        return response


def _cell(value: str) -> str:
    """Neutralise spreadsheet formulas in user text (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = ("email_hash", "reason", "created_at")
    list_filter = ("reason",)
    search_fields = ("email_hash",)
    readonly_fields = ("email_hash", "reason", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(LinkEmail)
class LinkEmailAdmin(admin.ModelAdmin):
    """Confirmation and preference-centre emails: what is owed, sent, dropped or failed, and why."""

    list_display = ("created_at", "subscriber", "kind", "state", "attempts", "sent_at", "last_error")
    list_filter = ("state", "kind")
    list_select_related = ("subscriber",)
    search_fields = ("subscriber__email",)
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
