"""Admin for topics, subscribers (consent, history and link emails read-only) and the suppression list."""

from __future__ import annotations

import csv

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from subscribers import services
from subscribers.models import ConsentRecord, LinkEmail, Subscriber, SubscriberEvent, Suppression, Topic


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "category_list", "subscriber_count", "position", "active")
    list_editable = ("position", "active")
    search_fields = ("name", "slug", "description")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("live_preview",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Topic]:
        return super().get_queryset(request).annotate(subscriber_total=Count("subscribers"))

    @admin.display(description="categories")
    def category_list(self, topic: Topic) -> str:
        return ", ".join(topic.categories)

    @admin.display(description="subscribers", ordering="subscriber_total")
    def subscriber_count(self, topic: Topic) -> int:
        return topic.subscriber_total  # type: ignore[attr-defined]

    @admin.display(description="live preview")
    def live_preview(self, topic: Topic) -> str:
        """The papers of the latest announcement this topic matches now (as saved), with why-lines."""
        from newsletter.selectors import topic_preview

        if topic.pk is None:
            return "Save the topic to preview what it matches."
        day, matches = topic_preview(topic=topic)
        if day is None:
            return "No announced papers yet."
        rows = format_html_join(
            "",
            '<li><a href="{}">{}</a> <small>({})</small><br>'
            '<span style="color:var(--body-quiet-color)">{}</span></li>',
            ((p.abstract_page, p.title, p.arxiv_id, why) for p, why in matches),
        )
        return (
            format_html("<p>{} of the papers announced on {}:</p><ol>{}</ol>", len(matches), day, rows)
            if matches
            else f"Nothing announced on {day} matches."
        )


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
    fields = ("created_at", "kind", "state", "attempts", "sent_at", "last_error")
    readonly_fields = fields


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
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
    list_filter = ("status", "cadence", "topics", "timezone")
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
    inlines = (ConsentInline, LinkEmailInline, EventInline)
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
        asked = sum(services.subscriber_reactivate(subscriber=s) for s in queryset)
        self.message_user(
            request,
            f"Sent {asked} confirmation link(s); nothing changes until they confirm.",
            messages.SUCCESS,
        )

    @admin.action(description="Resend the confirmation email", permissions=["change"])
    def resend_confirmation(self, request: HttpRequest, queryset: QuerySet[Subscriber]) -> None:
        sent = sum(
            services.confirmation_resend(subscriber=s, request=services.RequestInfo())
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

    # --- digest preview and test send -------------------------------------------------------------

    def get_urls(self):  # type: ignore[no-untyped-def]
        custom = [
            path(
                "<int:pk>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="subscribers_subscriber_preview",
            ),
            path(
                "<int:pk>/preview/send-test/",
                self.admin_site.admin_view(require_POST(self.send_test_view)),
                name="subscribers_subscriber_send_test",
            ),
        ]
        return custom + super().get_urls()

    def _require_preview(self, request: HttpRequest) -> None:
        if not request.user.has_perm("newsletter.preview_digest"):
            raise PermissionDenied

    def preview_view(self, request: HttpRequest, pk: int) -> TemplateResponse:
        from newsletter.emails import digest_preview

        self._require_preview(request)
        subscriber = get_object_or_404(Subscriber, pk=pk)
        preview = digest_preview(subscriber=subscriber, now=timezone.now())
        context = {
            **self.admin_site.each_context(request),
            "title": f"Digest preview for {subscriber.email}",
            "subscriber": subscriber,
            "preview": preview,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/subscribers/subscriber/preview.html", context)

    def send_test_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        from newsletter.sending import digest_test_send

        self._require_preview(request)
        subscriber = get_object_or_404(Subscriber, pk=pk)
        if not request.user.email:
            self.message_user(
                request, "Your staff account has no email address to send the test to.", messages.ERROR
            )
        elif digest_test_send(subscriber=subscriber, to=request.user.email):
            self.message_user(
                request,
                f"Sent a test of {subscriber.email}'s digest to {request.user.email}.",
                messages.SUCCESS,
            )
        else:
            self.message_user(
                request, "There is nothing to send for this subscriber right now.", messages.WARNING
            )
        return HttpResponseRedirect(reverse("admin:subscribers_subscriber_preview", args=[pk]))


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
