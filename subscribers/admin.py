"""Admin for topics, subscribers (with their consent records and history) and the suppression list."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from subscribers.models import ConsentRecord, Subscriber, SubscriberEvent, Suppression, Topic


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "category_list", "subscriber_count", "position", "active")
    list_editable = ("position", "active")
    search_fields = ("name", "slug", "description")
    prepopulated_fields = {"slug": ("name",)}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Topic]:
        return super().get_queryset(request).annotate(subscriber_total=Count("subscribers"))

    @admin.display(description="categories")
    def category_list(self, topic: Topic) -> str:
        return ", ".join(topic.categories)

    @admin.display(description="subscribers", ordering="subscriber_total")
    def subscriber_count(self, topic: Topic) -> int:
        return topic.subscriber_total  # type: ignore[attr-defined]


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


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ("email", "status", "cadence", "timezone", "send_hour", "created_at", "confirmed_at")
    list_filter = ("status", "cadence", "topics", "timezone")
    search_fields = ("email",)
    readonly_fields = (
        "email",
        "status",
        "created_at",
        "confirmed_at",
        "unsubscribed_at",
        "suppressed_reason",
    )
    filter_horizontal = ("topics",)
    inlines = (ConsentInline, EventInline)
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # people subscribe themselves, with consent


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = ("email_hash", "reason", "created_at")
    list_filter = ("reason",)
    search_fields = ("email_hash",)
    readonly_fields = ("email_hash", "reason", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
