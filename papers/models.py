"""The paper catalogue, the feeds it is filled from, and the topics editors curate it into."""

from __future__ import annotations

import json

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Func, Q
from django.utils import timezone

from papers import fetching
from papers.feeds import entries


class UnicodeJSONEncoder(json.JSONEncoder):
    """Store non-ASCII text as itself, so a text search for "Ramírez" finds it on SQLite too."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs["ensure_ascii"] = False
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]


class PostgresOnly(Func):
    """An expression PostgreSQL computes; other databases (SQLite, in development) store NULL instead."""

    template = "%(expressions)s"

    def as_sqlite(self, compiler: object, connection: object, **extra: object) -> tuple[str, list[object]]:
        return "NULL", []


def search_document() -> SearchVector:
    """Return what the site's search reads of a paper: title (weight A), abstract (B), authors (C)."""
    return (
        SearchVector("title", config="english", weight="A")
        + SearchVector("abstract", config="english", weight="B")
        + SearchVector("author_names", config="english", weight="C")
    )


class PaperManager(models.Manager["Paper"]):
    def get_queryset(self) -> models.QuerySet[Paper]:
        # The search vector is for the database's use: no page or digest reads it back.
        return super().get_queryset().defer("search_vector")


class Paper(models.Model):
    """One arXiv paper, whatever the sources it was seen in; keyed on its version-free id."""

    arxiv_id = models.CharField("arXiv id", max_length=64, unique=True)
    version = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Latest version seen.")
    title = models.TextField()
    abstract = models.TextField(blank=True)
    author_names = models.JSONField(
        default=list, blank=True, encoder=UnicodeJSONEncoder, help_text="Authors in order."
    )
    primary_category = models.CharField(max_length=32, blank=True, db_index=True)
    categories = models.JSONField(default=list, blank=True)

    published_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)
    announced_on = models.DateField(
        null=True,
        blank=True,
        db_index=True,
        help_text="The day the paper was first announced as new (arXiv listing or HF daily list).",
    )

    # Links are written into hrefs of emails and pages: http(s) only (entries.web_url at ingest).
    abs_url = models.URLField("abstract page", max_length=500, blank=True, validators=[entries.WEB_URL])
    pdf_url = models.URLField("PDF", max_length=500, blank=True, validators=[entries.WEB_URL])
    hf_url = models.URLField("Hugging Face page", max_length=500, blank=True, validators=[entries.WEB_URL])
    code_url = models.URLField("code repository", max_length=500, blank=True, validators=[entries.WEB_URL])
    project_url = models.URLField("project page", max_length=500, blank=True, validators=[entries.WEB_URL])

    upvotes = models.IntegerField(null=True, blank=True, help_text="Hugging Face upvotes.")
    hf_comments = models.IntegerField("HF comments", null=True, blank=True)
    ai_summary = models.TextField("AI summary", blank=True)
    ai_keywords = models.JSONField("AI keywords", default=list, blank=True, encoder=UnicodeJSONEncoder)
    thumbnail_url = models.URLField(max_length=500, blank=True, validators=[entries.WEB_URL])
    organization = models.CharField(max_length=200, blank=True)
    github_stars = models.IntegerField(null=True, blank=True)
    hf_daily_on = models.DateField("on HF daily list", null=True, blank=True)

    doi = models.CharField("DOI", max_length=255, blank=True)
    journal_ref = models.TextField("journal reference", blank=True)
    comment = models.TextField(blank=True)

    sources = models.JSONField(default=list, blank=True, help_text="Feed formats it was seen in.")
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    featured = models.BooleanField(default=False)
    hidden = models.BooleanField(default=False, help_text="Hidden papers are never sent.")
    trending_since = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When its upvotes reached PAPERS_TRENDING_UPVOTES: readers who had its day may get it.",
    )

    # Kept by PostgreSQL itself from the title, abstract and authors, for full-text search.
    search_vector = models.GeneratedField(
        expression=PostgresOnly(search_document(), output_field=SearchVectorField()),
        output_field=SearchVectorField(null=True),
        db_persist=True,
    )

    objects = PaperManager()

    class Meta:
        ordering = ["-announced_on", "-upvotes", "-arxiv_id"]
        indexes = [
            models.Index(fields=["-announced_on", "-upvotes"], name="paper_latest_idx"),
            # A day's page, and the days before and after it, read in this order (PostgreSQL only:
            # SQLite has no NULLS LAST in an index).
            models.Index(
                F("announced_on"),
                F("upvotes").desc(nulls_last=True),
                F("arxiv_id").desc(),
                condition=Q(hidden=False),
                name="paper_day_idx",
            ),
            # Weekly and monthly trending: the papers with upvotes, by day.
            models.Index(
                F("announced_on"),
                F("upvotes").desc(),
                condition=Q(hidden=False, upvotes__isnull=False),
                name="paper_trending_idx",
            ),
            GinIndex(fields=["search_vector"], name="paper_search_idx"),
            GinIndex(fields=["categories"], opclasses=["jsonb_path_ops"], name="paper_categories_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.arxiv_id}: {self.title[:80]}"

    @property
    def abstract_page(self) -> str:
        """Return the paper's arXiv abstract page URL."""
        return self.abs_url or entries.abs_url_for(self.arxiv_id)


def validate_feed_url(value: str) -> None:
    """Refuse a feed URL that is not http(s) or whose host is not a public address."""
    problem = fetching.url_problem(value)
    if problem:
        raise ValidationError(f"Refused: {problem}.", code="feed_url")


class Feed(models.Model):
    """A source of papers fetched on a schedule, with the outcome of its last run."""

    class Kind(models.TextChoices):
        ARXIV_RSS = entries.ARXIV_RSS, "arXiv RSS"
        ARXIV_API = entries.ARXIV_API, "arXiv API (Atom)"
        HF_JSON = entries.HF_JSON, "Hugging Face daily papers (JSON)"
        HF_RSS = entries.HF_RSS, "Hugging Face daily papers (RSS)"

    class Status(models.TextChoices):
        NEVER = "never", "never run"
        OK = "ok", "ok"
        NOT_MODIFIED = "not_modified", "not modified"
        ERROR = "error", "error"

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    url = models.URLField(
        max_length=500,
        validators=[validate_feed_url],
        help_text="An http(s) URL on a public host; addresses of this machine or its network are refused.",
    )
    enabled = models.BooleanField(default=True)

    etag = models.CharField("ETag", max_length=255, blank=True)
    last_modified = models.CharField(max_length=64, blank=True)

    last_run_at = models.DateTimeField(null=True, blank=True)
    last_status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEVER)
    last_error = models.TextField(blank=True)
    last_new = models.PositiveIntegerField(default=0)
    last_updated = models.PositiveIntegerField(default=0)
    last_unchanged = models.PositiveIntegerField(default=0)
    last_skipped = models.PositiveIntegerField(default=0)

    # What a fetch records on the feed (the rest of a run's story is its FetchRun).
    RUN_FIELDS = (
        "etag",
        "last_modified",
        "last_run_at",
        "last_status",
        "last_error",
        "last_new",
        "last_updated",
        "last_unchanged",
        "last_skipped",
    )

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name


class FetchRun(models.Model):
    """One fetch of a feed (or ingest of a saved document) and what it did."""

    class Status(models.TextChoices):
        RUNNING = "running", "running"
        OK = "ok", "ok"
        NOT_MODIFIED = "not_modified", "not modified"
        ERROR = "error", "error"

    feed = models.ForeignKey(Feed, null=True, blank=True, on_delete=models.CASCADE, related_name="runs")
    source = models.CharField(max_length=500, help_text="The URL or file that was read.")
    format = models.CharField(max_length=16, blank=True)
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    bytes_read = models.PositiveIntegerField(default=0)
    new = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    notes = models.TextField(blank=True, help_text="Entries skipped, and why.")

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["feed", "-started_at"], name="fetchrun_feed_idx")]

    def __str__(self) -> str:
        return f"{self.source} at {self.started_at:%Y-%m-%d %H:%M} ({self.status})"


class EmbeddingModel(models.Model):
    """One fitted paper embedder (its version is its id): vectors of different versions never mix.

    The fitted state is stored here, not on a disk, so every machine embeds
    with the same model; the one ``active`` row is what ingest and ranking use.
    """

    embedder = models.CharField(max_length=200, help_text="The class that made it (PAPER_EMBEDDER).")
    name = models.CharField(max_length=64)
    dim = models.PositiveIntegerField()
    state = models.BinaryField(help_text="The fitted embedder, serialised by the embedder.")
    centre = models.BinaryField(default=b"", help_text="The catalogue's mean vector (float32).")
    papers = models.PositiveIntegerField(default=0, help_text="Papers it was fitted on.")
    fitted_at = models.DateTimeField(default=timezone.now)
    active = models.BooleanField(default=False)

    class Meta:
        ordering = ["-fitted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["active"], condition=models.Q(active=True), name="embedding_one_active"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.pk} ({self.dim} dimensions, {self.papers} papers)"


class PaperVector(models.Model):
    """A paper's vector under one embedding model: float32 bytes, L2-normalised."""

    model = models.ForeignKey(EmbeddingModel, on_delete=models.CASCADE, related_name="vectors")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="vectors")
    vector = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["model", "paper"], name="vector_unique_model_paper")]

    def __str__(self) -> str:
        return f"{self.paper_id} under v{self.model_id}"


class Topic(models.Model):
    """A named interest mapped to arXiv categories and keywords."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=64, unique=True)
    description = models.CharField(max_length=300, blank=True)
    categories = models.JSONField(default=list, blank=True, help_text='arXiv categories, e.g. ["cs.CL"].')
    include_keywords = models.JSONField(
        default=list,
        blank=True,
        encoder=UnicodeJSONEncoder,
        help_text="A paper matching any of these matches.",
    )
    exclude_keywords = models.JSONField(
        default=list,
        blank=True,
        encoder=UnicodeJSONEncoder,
        help_text="A paper matching any of these never matches.",
    )
    position = models.PositiveSmallIntegerField(default=0, help_text="Order on the sign-up form.")
    active = models.BooleanField(default=True, help_text="Inactive topics are not offered on the form.")

    class Meta:
        # The table keeps the name it was created with in the subscribers app.
        db_table = "subscribers_topic"
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class TopicPin(models.Model):
    """An editor's pin: this paper ranks first among a topic's matches."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="pins")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="pins")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        # The table keeps the name it was created with in the newsletter app.
        db_table = "newsletter_topicpin"
        constraints = [models.UniqueConstraint(fields=["topic", "paper"], name="pin_unique_topic_paper")]

    def __str__(self) -> str:
        return f"{self.paper_id} pinned in {self.topic_id}"
