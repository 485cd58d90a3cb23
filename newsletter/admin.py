"""Admin for editions, the delivery outbox and provider events."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from newsletter.models import Delivery, DeliveryItem, Edition, TopicPin, TrackingEvent


class ReadOnlyMixin:
    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Edition)
class EditionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("date", "cadence", "created_at")
    list_filter = ("cadence",)
    date_hierarchy = "date"


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
    list_filter = ("state", "edition__cadence", "edition__date")
    search_fields = ("subscriber__email", "message_id", "last_error")
    list_select_related = ("subscriber", "edition")
    inlines = (DeliveryItemInline,)
    show_full_result_count = False


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
