"""Admin for editions, the delivery outbox, provider events, and beat's schedules (changed by Admins only)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST
from django_celery_beat.admin import PeriodicTaskAdmin
from django_celery_beat.models import PeriodicTask

from newsletter import dispatch, emails, selectors, sending, tasks
from newsletter.models import Delivery, DeliveryItem, DispatchRun, Edition, TrackingEvent
from papers.models import Topic, TopicPin
from subscribers import admin as subscriber_admin
from subscribers.models import Subscriber


class ReadOnlyMixin:
    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Edition)
class EditionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("date", "cadence", "due", "sent", "failed", "skipped", "suppressed", "bounced")
    list_filter = ("cadence",)
    date_hierarchy = "date"
    fields = ("date", "cadence", "created_at")
    change_form_template = "admin/newsletter/edition/change_form.html"

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        edition = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if edition is not None:
            context["summary"] = selectors.edition_summary(edition=edition)
            context["deliveries_url"] = (
                reverse("admin:newsletter_delivery_changelist") + f"?edition__id__exact={edition.pk}"
            )
        return super().change_view(request, object_id, form_url, extra_context=context)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Edition]:
        state = lambda value: Count("deliveries", filter=Q(deliveries__state=value))  # noqa: E731
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_due=Count("deliveries"),
                n_sent=state(Delivery.State.SENT),
                n_failed=state(Delivery.State.FAILED),
                n_skipped=state(Delivery.State.SKIPPED),
                n_suppressed=state(Delivery.State.SUPPRESSED),
                n_bounced=Count("deliveries", filter=Q(deliveries__bounced_at__isnull=False)),
            )
        )

    def _link(self, edition: Edition, count: int, state: str = "") -> str:
        url = reverse("admin:newsletter_delivery_changelist") + f"?edition__id__exact={edition.pk}"
        if state:
            url += f"&state__exact={state}"
        return format_html('<a href="{}">{}</a>', url, count)

    @admin.display(description="due", ordering="n_due")
    def due(self, edition: Edition) -> str:
        return self._link(edition, edition.n_due)  # type: ignore[attr-defined]

    @admin.display(description="sent", ordering="n_sent")
    def sent(self, edition: Edition) -> str:
        return self._link(edition, edition.n_sent, Delivery.State.SENT)  # type: ignore[attr-defined]

    @admin.display(description="failed", ordering="n_failed")
    def failed(self, edition: Edition) -> str:
        return self._link(edition, edition.n_failed, Delivery.State.FAILED)  # type: ignore[attr-defined]

    @admin.display(description="skipped", ordering="n_skipped")
    def skipped(self, edition: Edition) -> str:
        return self._link(edition, edition.n_skipped, Delivery.State.SKIPPED)  # type: ignore[attr-defined]

    @admin.display(description="suppressed", ordering="n_suppressed")
    def suppressed(self, edition: Edition) -> str:
        return self._link(edition, edition.n_suppressed, Delivery.State.SUPPRESSED)  # type: ignore[attr-defined]

    @admin.display(description="bounced", ordering="n_bounced")
    def bounced(self, edition: Edition) -> int:
        return edition.n_bounced  # type: ignore[attr-defined]


class HasErrorFilter(admin.SimpleListFilter):
    title = "error"
    parameter_name = "has_error"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "With an error"), ("no", "Without")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> QuerySet[Delivery]:
        if self.value() == "yes":
            return queryset.exclude(last_error="")
        if self.value() == "no":
            return queryset.filter(last_error="")
        return queryset


class DeliveryItemInline(ReadOnlyMixin, admin.TabularInline):
    model = DeliveryItem
    extra = 0
    fields = ("position", "paper", "score", "why")
    readonly_fields = fields
    can_delete = False


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "subscriber",
        "edition",
        "state",
        "attempts",
        "sent_at",
        "skip_reason",
        "last_error",
    )
    list_filter = ("state", HasErrorFilter, "edition__cadence", "edition__date")
    search_fields = ("subscriber__email", "message_id", "last_error")
    list_select_related = ("subscriber", "edition")
    inlines = (DeliveryItemInline,)
    show_full_result_count = False
    actions = ("retry_failed",)

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("newsletter.retry_delivery")

    @admin.action(description="Retry failed deliveries (each is still sent once)", permissions=["retry"])
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        count = dispatch.deliveries_retry_failed(
            delivery_ids=list(queryset.values_list("pk", flat=True)), enqueue=tasks.send_chunk.delay
        )
        self.message_user(
            request,
            f"Queued {count} failed deliveries again; others were left as they are.",
            messages.SUCCESS,
        )


@admin.register(DispatchRun)
class DispatchRunAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("started_at", "due", "created", "recovered", "enqueued", "chunks")
    date_hierarchy = "started_at"


@admin.register(TrackingEvent)
class TrackingEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("occurred_at", "provider", "event_type", "bounce", "recipient", "delivery_id")
    list_filter = ("provider", "event_type", "bounce")
    search_fields = ("recipient", "message_id", "event_id")


@admin.register(TopicPin)
class TopicPinAdmin(admin.ModelAdmin):
    list_display = ("paper", "topic", "created_at")
    list_filter = ("topic",)
    autocomplete_fields = ("paper",)


admin.site.unregister(PeriodicTask)


@admin.register(PeriodicTask)
class GuardedPeriodicTaskAdmin(PeriodicTaskAdmin):
    """django-celery-beat's admin, whose actions (enable, disable, toggle, run now) need change permission.

    Its actions ask for no permission, so anyone who may view the schedules could stop the
    confirmation sweep or run any task at once.
    """

    @admin.action(description="Enable selected tasks", permissions=["change"])
    def enable_tasks(self, request: HttpRequest, queryset: QuerySet[PeriodicTask]) -> None:
        super().enable_tasks(request, queryset)

    @admin.action(description="Disable selected tasks", permissions=["change"])
    def disable_tasks(self, request: HttpRequest, queryset: QuerySet[PeriodicTask]) -> None:
        super().disable_tasks(request, queryset)

    @admin.action(description="Toggle activity of selected tasks", permissions=["change"])
    def toggle_tasks(self, request: HttpRequest, queryset: QuerySet[PeriodicTask]) -> None:
        super().toggle_tasks(request, queryset)

    @admin.action(description="Run selected tasks", permissions=["change"])
    def run_tasks(self, request: HttpRequest, queryset: QuerySet[PeriodicTask]) -> None:
        super().run_tasks(request, queryset)


# --- Digest previews on the subscriber and topic pages (newsletter builds digests) ----------------


class DigestTopicAdmin(subscriber_admin.TopicAdmin):
    """The topic page, with what the topic's rules match among the latest papers."""

    def matches_html(self, topic: Topic) -> str:
        return _matches_html(topic)


def _matches_html(topic: Topic) -> str:
    """Return the papers of the latest announcement ``topic`` matches, with why-lines, as HTML."""
    day, matches = selectors.topic_preview(topic=topic)
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
        else format_html("<p>Nothing announced on {} matches.</p>", day)
    )


class DigestSubscriberAdmin(subscriber_admin.SubscriberAdmin):
    """The subscriber page, with the digest they would get now and a test send of it."""

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
        self._require_preview(request)
        subscriber = get_object_or_404(Subscriber, pk=pk)
        preview = emails.digest_preview(subscriber=subscriber, now=timezone.now())
        context = {
            **self.admin_site.each_context(request),
            "title": f"Digest preview for {subscriber.email}",
            "subscriber": subscriber,
            "preview": preview,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/subscribers/subscriber/preview.html", context)

    def send_test_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        self._require_preview(request)
        subscriber = get_object_or_404(Subscriber, pk=pk)
        if not request.user.email:
            self.message_user(
                request, "Your staff account has no email address to send the test to.", messages.ERROR
            )
        elif sending.digest_test_send(subscriber=subscriber, to=request.user.email):
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


admin.site.unregister(Topic)
admin.site.register(Topic, DigestTopicAdmin)
admin.site.unregister(Subscriber)
admin.site.register(Subscriber, DigestSubscriberAdmin)
