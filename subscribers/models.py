"""Subscribers, what they asked for, the proof they asked, and who must never be mailed."""

from __future__ import annotations

from django.db import models
from django.utils.timezone import now

from papers.models import EmbeddingModel, Paper, UnicodeJSONEncoder
from papers.models import Topic as Topic  # moved to papers; still importable from here
from papers.search import paper_matches_search


class Subscriber(models.Model):
    """One email address and its preferences. Only ACTIVE subscribers are ever sent a digest."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending confirmation"
        ACTIVE = "active", "active"
        PAUSED = "paused", "paused"
        UNSUBSCRIBED = "unsubscribed", "unsubscribed"
        SUPPRESSED = "suppressed", "suppressed"

    class Cadence(models.TextChoices):
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    email = models.EmailField(max_length=254, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)

    topics = models.ManyToManyField(Topic, blank=True, related_name="subscribers")
    keywords = models.JSONField(default=list, blank=True, encoder=UnicodeJSONEncoder)
    excluded_keywords = models.JSONField(default=list, blank=True, encoder=UnicodeJSONEncoder)
    authors = models.JSONField(default=list, blank=True, encoder=UnicodeJSONEncoder)
    cadence = models.CharField(max_length=8, choices=Cadence.choices, default=Cadence.DAILY)
    timezone = models.CharField(max_length=64, default="UTC")
    send_hour = models.PositiveSmallIntegerField(default=7)
    max_papers = models.PositiveSmallIntegerField(default=10, help_text="Most papers in one digest.")
    send_weekday = models.PositiveSmallIntegerField(
        choices=Weekday.choices, default=Weekday.MONDAY, help_text="For weekly digests."
    )
    categories = models.JSONField(
        default=list, blank=True, help_text='arXiv categories followed directly, e.g. ["cs.CL", "hep-th"].'
    )
    include_crosslists = models.BooleanField(
        default=True,
        help_text="Whether a paper cross-listed into a followed category counts, or only its primary one.",
    )

    created_at = models.DateTimeField(default=now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    suppressed_reason = models.CharField(max_length=32, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "cadence"], name="subscriber_due_idx")]
        permissions = [("export_subscriber", "Can export subscribers as CSV")]

    def __str__(self) -> str:
        return self.email


class ConsentRecord(models.Model):
    """Proof of one sign-up: what was asked, on which form and wording, and when it was confirmed."""

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="consents")
    form_id = models.CharField(max_length=64)
    wording_version = models.CharField(max_length=32)
    wording = models.TextField(help_text="The consent text the person saw.")
    requested_preferences = models.JSONField(default=dict, encoder=UnicodeJSONEncoder)
    submitted_at = models.DateTimeField(default=now)
    submitted_ip = models.GenericIPAddressField(null=True, blank=True)
    submitted_user_agent = models.CharField(max_length=400, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_ip = models.GenericIPAddressField(null=True, blank=True)
    confirmed_user_agent = models.CharField(max_length=400, blank=True)

    class Meta:
        ordering = ["-submitted_at"]

    def __str__(self) -> str:
        state = "confirmed" if self.confirmed_at else "unconfirmed"
        return f"{self.form_id}/{self.wording_version} at {self.submitted_at:%Y-%m-%d %H:%M} ({state})"

    def superseded(self) -> bool:
        """Return whether a sign-up made after this one was confirmed: then the newer choices stand."""
        return ConsentRecord.objects.filter(
            subscriber_id=self.subscriber_id, pk__gt=self.pk, confirmed_at__isnull=False
        ).exists()


class SubscriberEvent(models.Model):
    """The subscriber's history, one row per thing that happened to the subscription."""

    class Kind(models.TextChoices):
        SUBSCRIBED = "subscribed", "subscribed"
        CONFIRMATION_SENT = "confirmation_sent", "confirmation sent"
        MANAGE_LINK_SENT = "manage_link_sent", "manage link sent"
        CONFIRMED = "confirmed", "confirmed"
        PREFERENCES_CHANGED = "preferences_changed", "preferences changed"
        PAUSED = "paused", "paused"
        RESUMED = "resumed", "resumed"
        UNSUBSCRIBED = "unsubscribed", "unsubscribed"
        SUPPRESSED = "suppressed", "suppressed"
        REACTIVATION_REQUESTED = "reactivation_requested", "asked to confirm again"

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    at = models.DateTimeField(default=now)
    ip = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True, encoder=UnicodeJSONEncoder)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["subscriber", "-at"], name="event_subscriber_idx")]

    def __str__(self) -> str:
        return f"{self.kind} at {self.at:%Y-%m-%d %H:%M}"


class LinkEmail(models.Model):
    """An email someone asked for (a confirmation link, a preference-centre link): owed until sent.

    The request that asks for it writes this row in its own transaction, so the
    ask survives a broker outage, and beat's sweep sends it (`link_emails_sweep`).
    A try that fails for a reason that may pass backs off this row alone
    (``retry_after``); one that would fail every time fails it at once.
    """

    class Kind(models.TextChoices):
        CONFIRMATION = "confirmation", "confirmation link"
        MANAGE_LINK = "manage_link", "preference-centre link"

    class State(models.TextChoices):
        OWED = "owed", "owed"
        SENT = "sent", "sent"
        SKIPPED = "skipped", "no longer wanted"
        FAILED = "failed", "failed"

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="link_emails")
    consent = models.ForeignKey(
        ConsentRecord, null=True, blank=True, on_delete=models.CASCADE, related_name="link_emails"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    state = models.CharField(max_length=8, choices=State.choices, default=State.OWED)
    created_at = models.DateTimeField(default=now)
    claimed_until = models.DateTimeField(
        null=True, blank=True, help_text="A worker is sending it; another may try after this time."
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    retry_after = models.DateTimeField(
        null=True,
        blank=True,
        help_text="A try failed for a reason that may pass: not tried before this time.",
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["created_at"], condition=models.Q(state="owed"), name="linkemail_owed_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.state})"


class Feedback(models.Model):
    """A subscriber's "more like this" (+1) or "less like this" (-1) on a paper; the latest counts."""

    class Value(models.IntegerChoices):
        MORE = 1, "more like this"
        LESS = -1, "less like this"

    class Source(models.TextChoices):
        DIGEST = "digest", "a link in a digest"
        SEED = "seed", "a paper the reader gave as one they like"
        SITE = "site", "rated on the preference centre"

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="feedback")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="feedback")
    value = models.SmallIntegerField(choices=Value.choices)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.DIGEST)
    created_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "paper"], name="feedback_unique_subscriber_paper")
        ]

    def __str__(self) -> str:
        return f"{self.get_value_display()} on {self.paper_id}"


class SavedSearch(models.Model):
    """A search a subscriber asked to be mailed new matches of ("matches your search <query>")."""

    MAX_PER_SUBSCRIBER = 10

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="saved_searches")
    query = models.CharField(max_length=200, help_text="As typed on the site's search (websearch syntax).")
    filters = models.JSONField(
        default=dict, blank=True, encoder=UnicodeJSONEncoder, help_text='e.g. {"category": "cs.CL"}.'
    )
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscriber", "query", "filters"], name="savedsearch_unique_per_subscriber"
            )
        ]

    def __str__(self) -> str:
        category = self.filters.get("category") if isinstance(self.filters, dict) else ""
        return f"“{self.query}”" + (f" in {category}" if category else "")

    @property
    def category(self) -> str:
        return str(self.filters.get("category", "")) if isinstance(self.filters, dict) else ""

    def matches(self, paper: Paper) -> bool:
        """Return whether ``paper`` is one this search finds on the site (papers.search semantics)."""
        return paper_matches_search(paper, query=self.query, category=self.category)


class Suppression(models.Model):
    """An address that must not be mailed, kept only as a keyed hash (survives erasure)."""

    class Reason(models.TextChoices):
        HARD_BOUNCE = "hard_bounce", "hard bounce"
        SOFT_BOUNCES = "soft_bounces", "repeated soft bounces"
        COMPLAINT = "complaint", "spam complaint"
        ERASED = "erased", "data erased on request"
        MANUAL = "manual", "suppressed by an admin"

    email_hash = models.CharField(max_length=64, unique=True)
    reason = models.CharField(max_length=16, choices=Reason.choices)
    created_at = models.DateTimeField(default=now)

    def __str__(self) -> str:
        return f"{self.email_hash[:12]}… ({self.reason})"


class ReaderModel(models.Model):
    """A subscriber's learned taste: a weight vector over paper vectors of one embedding version.

    Trained by a task whenever their feedback or preferences change (never by
    the dispatcher, which only reads it); see subscribers/relevance.py.
    """

    subscriber = models.OneToOneField(Subscriber, on_delete=models.CASCADE, related_name="reader_model")
    embedding = models.ForeignKey(EmbeddingModel, on_delete=models.CASCADE, related_name="reader_models")
    weights = models.BinaryField(help_text="float32, one per dimension of the embedding.")
    liked = models.JSONField(
        default=list, blank=True, help_text="The liked papers (newest first) a why-line may name."
    )
    likes = models.PositiveIntegerField(default=0)
    dislikes = models.PositiveIntegerField(default=0)
    stated = models.PositiveIntegerField(
        default=0, help_text="Keywords, topics and followed authors' papers."
    )
    trained_at = models.DateTimeField(default=now)

    def __str__(self) -> str:
        return f"model of {self.subscriber_id}: {self.likes} likes, {self.dislikes} dislikes"
