"""Admin for the catalogue: papers, feeds and their fetch history."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from papers import tasks
from papers.models import Feed, FetchRun, Paper

# A URL typed without a scheme means https, as Django 6 will assume.
HTTPS_URLS = {models.URLField: {"assume_scheme": "https"}}


class SourceFilter(admin.SimpleListFilter):
    title = "source"
    parameter_name = "source"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return list(Feed.Kind.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Paper]) -> QuerySet[Paper]:
        if self.value():
            # sources is a JSON list of format names; a quoted match cannot hit a prefix.
            return queryset.filter(sources__icontains=f'"{self.value()}"')
        return queryset


@admin.register(Paper)
class PaperAdmin(admin.ModelAdmin):
    list_display = (
        "title_short",
        "arxiv_id",
        "primary_category",
        "announced_on",
        "upvotes",
        "source_list",
        "featured",
        "hidden",
    )
    list_filter = (SourceFilter, "featured", "hidden", "announced_on", "primary_category")
    search_fields = ("arxiv_id", "title", "abstract", "author_names")
    date_hierarchy = "announced_on"
    readonly_fields = ("sources", "first_seen_at", "last_seen_at")
    list_per_page = 50
    show_full_result_count = False
    formfield_overrides = HTTPS_URLS

    @admin.display(description="title", ordering="title")
    def title_short(self, paper: Paper) -> str:
        return paper.title if len(paper.title) <= 90 else paper.title[:87] + "..."

    @admin.display(description="sources")
    def source_list(self, paper: Paper) -> str:
        return ", ".join(paper.sources)


class FetchRunInline(admin.TabularInline):
    model = FetchRun
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ("-started_at",)
    fields = (
        "started_at",
        "status",
        "http_status",
        "new",
        "updated",
        "unchanged",
        "skipped",
        "error",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[FetchRun]:
        return super().get_queryset(request).order_by("-started_at")


@admin.register(Feed)
class FeedAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "slug",
        "kind",
        "enabled",
        "status_badge",
        "last_run_at",
        "last_counts",
        "last_error_short",
    )
    list_filter = ("kind", "enabled", "last_status")
    search_fields = ("name", "slug", "url")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = (
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
    actions = ("fetch_now",)
    inlines = (FetchRunInline,)
    formfield_overrides = HTTPS_URLS

    @admin.display(description="last status", ordering="last_status")
    def status_badge(self, feed: Feed) -> str:
        colour = {"ok": "#1a7f37", "not_modified": "#57606a", "error": "#cf222e"}.get(
            feed.last_status, "#57606a"
        )
        return format_html('<strong style="color:{}">{}</strong>', colour, feed.get_last_status_display())

    @admin.display(description="new / upd / same / skip")
    def last_counts(self, feed: Feed) -> str:
        return f"{feed.last_new} / {feed.last_updated} / {feed.last_unchanged} / {feed.last_skipped}"

    @admin.display(description="last error")
    def last_error_short(self, feed: Feed) -> str:
        return feed.last_error[:120]

    @admin.action(description="Fetch now")
    def fetch_now(self, request: HttpRequest, queryset: QuerySet[Feed]) -> None:
        for feed in queryset:
            tasks.fetch_feed.delay_on_commit(feed.pk)
        self.message_user(request, f"Queued a fetch for {queryset.count()} feed(s).", messages.SUCCESS)


@admin.register(FetchRun)
class FetchRunAdmin(admin.ModelAdmin):
    list_display = (
        "started_at",
        "feed",
        "source",
        "status",
        "http_status",
        "new",
        "updated",
        "unchanged",
        "skipped",
        "error",
    )
    list_filter = ("status", "feed", "format")
    search_fields = ("source", "error")
    date_hierarchy = "started_at"
    list_select_related = ("feed",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: FetchRun | None = None) -> bool:
        return False
