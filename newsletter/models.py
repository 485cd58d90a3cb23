"""Digests: editions, the delivery outbox, what each delivery contained and provider events."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from papers.models import Paper, UnicodeJSONEncoder
from papers.models import TopicPin as TopicPin  # moved to papers; still importable from here
from subscribers.models import Subscriber


class Edition(models.Model):
    """One issue of the digest: a (local) date for one cadence."""

    cadence = models.CharField(max_length=8, choices=Subscriber.Cadence.choices)
    date = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-date", "cadence"]
        permissions = [("preview_digest", "Can preview any subscriber's digest and send a test to oneself")]
        constraints = [
            models.UniqueConstraint(fields=["cadence", "date"], name="edition_unique_cadence_date")
        ]

    def __str__(self) -> str:
        return f"{self.get_cadence_display()} {self.date:%Y-%m-%d}"


class Delivery(models.Model):
    """The outbox: one row per (subscriber, edition), the record of what is owed and what was sent.

    pending -> sending -> sent | failed | skipped | suppressed. A row is claimed
    (sending) under a lease; a row left in sending by a dead worker returns to
    pending once the lease expires.
    """

    class State(models.TextChoices):
        PENDING = "pending", "pending"
        SENDING = "sending", "sending"
        SENT = "sent", "sent"
        FAILED = "failed", "failed"
        SKIPPED = "skipped", "skipped (nothing to send)"
        SUPPRESSED = "suppressed", "suppressed"

    # Indexed by the unique (subscriber, edition) constraint, which leads with it: a separate index
    # only cost an insert on every write (each row is written three times as it is sent).
    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    edition = models.ForeignKey(Edition, on_delete=models.PROTECT, related_name="deliveries")
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    skip_reason = models.CharField(max_length=200, blank=True)
    message_id = models.CharField("provider message id", max_length=255, blank=True)
    papers_through = models.DateField(
        null=True, blank=True, help_text="The latest announcement day this digest covered."
    )
    created_at = models.DateTimeField(default=timezone.now)
    queued_at = models.DateTimeField(null=True, blank=True)
    queued_by = models.ForeignKey(
        "DispatchRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The dispatcher run that last queued this delivery.",
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    retry_after = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        permissions = [("retry_delivery", "Can re-queue failed deliveries")]
        constraints = [
            models.UniqueConstraint(
                fields=["subscriber", "edition"], name="delivery_unique_subscriber_edition"
            )
        ]
        indexes = [
            models.Index(fields=["state", "queued_at"], name="delivery_state_queued_idx"),
            models.Index(fields=["subscriber", "state"], name="delivery_subscriber_state_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.edition} to subscriber {self.subscriber_id} ({self.state})"


class DispatchRun(models.Model):
    """One run of the dispatcher and what it did."""

    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    due = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    recovered = models.PositiveIntegerField(default=0)
    enqueued = models.PositiveIntegerField(default=0)
    chunks = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"dispatch at {self.started_at:%Y-%m-%d %H:%M}: {self.created} created, {self.enqueued} queued"


class DeliveryItem(models.Model):
    """A paper in a delivery, with its rank, score and the why-line it was shown with.

    Ten rows a digest, written by COPY as each chunk is planned: the busiest
    insert in the system. Its two foreign keys are kept by Django, not by
    PostgreSQL (``db_constraint=False``): a row is only written for a delivery
    its sender holds locked and a paper just read, and deleting a delivery or
    a paper still cascades here through the ORM. The database triggers cost a
    lookup and a row lock per item (every sender share-locking the same few
    hundred paper rows): about a quarter of PostgreSQL's time in the dispatch
    benchmark.
    """

    # Indexed by the unique (delivery, paper) constraint, which leads with it.
    delivery = models.ForeignKey(
        Delivery, on_delete=models.CASCADE, related_name="items", db_index=False, db_constraint=False
    )
    paper = models.ForeignKey(
        Paper, on_delete=models.CASCADE, related_name="delivery_items", db_constraint=False
    )
    position = models.PositiveSmallIntegerField()
    score = models.FloatField(default=0)
    why = models.CharField(max_length=300)

    class Meta:
        ordering = ["delivery", "position"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "paper"], name="item_unique_delivery_paper")
        ]

    def __str__(self) -> str:
        return f"#{self.position} {self.paper_id}"


class TrackingEvent(models.Model):
    """A provider's tracking event (bounce, complaint, delivery...), stored once per event id."""

    provider = models.CharField(max_length=32)
    event_id = models.CharField(max_length=255)
    event_type = models.CharField(max_length=32, db_index=True)
    reject_reason = models.CharField(max_length=32, blank=True)
    bounce = models.CharField(max_length=4, blank=True, help_text="hard or soft, for bounces")
    recipient = models.EmailField(max_length=254, blank=True, db_index=True)
    message_id = models.CharField(max_length=255, blank=True)
    delivery = models.ForeignKey(
        Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    subscriber = models.ForeignKey(
        Subscriber, null=True, blank=True, on_delete=models.CASCADE, related_name="tracking_events"
    )
    occurred_at = models.DateTimeField(default=timezone.now)
    received_at = models.DateTimeField(default=timezone.now)
    description = models.TextField(blank=True)
    raw = models.JSONField(default=dict, blank=True, encoder=UnicodeJSONEncoder)

    class Meta:
        ordering = ["-occurred_at"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="tracking_unique_provider_event")
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_type} for {self.recipient}"
