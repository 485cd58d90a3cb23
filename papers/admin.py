"""Admin for the catalogue: papers, feeds and their fetch history."""

from __future__ import annotations

from functools import partial

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db import models
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from papers import tasks
from papers.forms import CategoryListField, TextListField, TextListsMixin
from papers.models import Feed, FetchRun, Paper, Topic, TopicPin

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


class HasCodeFilter(admin.SimpleListFilter):
    title = "has code"
    parameter_name = "has_code"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Paper]) -> QuerySet[Paper]:
        if self.value() == "yes":
            return queryset.exclude(code_url="")
        if self.value() == "no":
            return queryset.filter(code_url="")
        return queryset


class CategoryFilter(admin.SimpleListFilter):
    """Any of a paper's categories, not only the primary one."""

    title = "category"
    parameter_name = "category"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        primary = Paper.objects.exclude(primary_category="").values_list("primary_category", flat=True)
        return [(c, c) for c in sorted(set(primary.distinct().order_by()[:200]))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Paper]) -> QuerySet[Paper]:
        if self.value():
            return queryset.filter(categories__icontains=f'"{self.value()}"')
        return queryset


class PinForm(forms.Form):
    topic = forms.ModelChoiceField(queryset=Topic.objects.order_by("position", "name"))


@admin.register(Paper)
class PaperAdmin(TextListsMixin, admin.ModelAdmin):
    text_lists = {
        # Names may hold commas ("Smith, Jr., John"): one per line.
        "author_names": partial(
            TextListField, one_per_line=True, max_item_length=300, help_text="Authors in order, one per line."
        ),
        "categories": CategoryListField,
        "ai_keywords": TextListField,
    }
    # Short columns that stay on one line, so the title gets the width (admin.css).
    list_display = (
        "title_short",
        "arxiv_id",
        "category",
        "announced",
        "upvotes",
        "source_list",
    )
    list_filter = (SourceFilter, CategoryFilter, "announced_on", "featured", "hidden", HasCodeFilter)
    search_fields = ("arxiv_id", "title", "abstract", "author_names")
    date_hierarchy = "announced_on"
    exclude = ("sources",)  # shown as seen_in
    readonly_fields = (
        "seen_in",
        "first_seen_at",
        "last_seen_at",
        "pinned_in",
        "included_in",
        "feedback_received",
    )
    list_per_page = 50
    show_full_result_count = False
    formfield_overrides = HTTPS_URLS
    actions = ("feature", "unfeature", "hide", "unhide", "pin_to_topic")

    @admin.action(description="Feature selected papers", permissions=["change"])
    def feature(self, request: HttpRequest, queryset: QuerySet[Paper]) -> None:
        self.message_user(request, f"Featured {queryset.update(featured=True)} paper(s).", messages.SUCCESS)

    @admin.action(description="Unfeature selected papers", permissions=["change"])
    def unfeature(self, request: HttpRequest, queryset: QuerySet[Paper]) -> None:
        self.message_user(
            request, f"Unfeatured {queryset.update(featured=False)} paper(s).", messages.SUCCESS
        )

    @admin.action(description="Hide selected papers (never sent)", permissions=["change"])
    def hide(self, request: HttpRequest, queryset: QuerySet[Paper]) -> None:
        self.message_user(
            request, f"Hid {queryset.update(hidden=True)} paper(s); they will not be sent.", messages.SUCCESS
        )

    @admin.action(description="Unhide selected papers", permissions=["change"])
    def unhide(self, request: HttpRequest, queryset: QuerySet[Paper]) -> None:
        self.message_user(request, f"Unhid {queryset.update(hidden=False)} paper(s).", messages.SUCCESS)

    @admin.action(description="Pin selected papers to a topic…", permissions=["change"])
    def pin_to_topic(self, request: HttpRequest, queryset: QuerySet[Paper]) -> TemplateResponse | None:
        if "apply" in request.POST:
            form = PinForm(request.POST)
            if form.is_valid():
                topic = form.cleaned_data["topic"]
                pins = [TopicPin(topic=topic, paper=paper) for paper in queryset]
                TopicPin.objects.bulk_create(pins, ignore_conflicts=True)
                self.message_user(request, f"Pinned {len(pins)} paper(s) in {topic}.", messages.SUCCESS)
                return None
        else:
            form = PinForm()
        context = {
            **self.admin_site.each_context(request),
            "title": "Pin papers to a topic",
            "papers": queryset,
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/papers/paper/pin_to_topic.html", context)

    @admin.display(description="pinned in")
    def pinned_in(self, paper: Paper) -> str:
        return ", ".join(pin.topic.name for pin in paper.pins.select_related("topic")) or "—"

    @admin.display(description="included in deliveries")
    def included_in(self, paper: Paper) -> str:
        items = paper.delivery_items.select_related("delivery__subscriber", "delivery__edition").order_by(
            "-delivery__created_at"
        )[:50]
        total = paper.delivery_items.count()
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>#{}</td></tr>',
            (
                (
                    reverse("admin:newsletter_delivery_change", args=[i.delivery_id]),
                    i.delivery.edition,
                    i.delivery.subscriber.email,
                    i.delivery.state,
                    i.position,
                )
                for i in items
            ),
        )
        if not total:
            return "Not sent to anyone yet."
        return format_html("<p>{} deliveries (latest 50):</p><table>{}</table>", total, rows)

    @admin.display(description="feedback received")
    def feedback_received(self, paper: Paper) -> str:
        counts = dict(paper.feedback.values_list("value").annotate(n=Count("id")).order_by())
        return f"{counts.get(1, 0)} x more like this, {counts.get(-1, 0)} x less like this"

    @admin.display(description="title", ordering="title")
    def title_short(self, paper: Paper) -> str:
        title = paper.title if len(paper.title) <= 90 else paper.title[:87] + "..."
        flags = [name for name, on in (("featured", paper.featured), ("hidden", paper.hidden)) if on]
        return format_html(
            "{}{}", title, format_html_join("", ' <span class="pm-flag">{}</span>', ((f,) for f in flags))
        )

    @admin.display(description="category", ordering="primary_category")
    def category(self, paper: Paper) -> str:
        return paper.primary_category

    @admin.display(description="announced", ordering="announced_on")
    def announced(self, paper: Paper) -> str:
        return paper.announced_on.isoformat() if paper.announced_on else "—"

    @admin.display(description="seen in")
    def seen_in(self, paper: Paper) -> str:
        """The feed formats it was seen in, by name."""
        return ", ".join(Feed.Kind(s).label if s in Feed.Kind.values else s for s in paper.sources) or "—"

    @admin.display(description="sources")
    def source_list(self, paper: Paper) -> str:
        """The feeds it was seen in, briefly: arXiv, HF."""
        short = {"arxiv": "arXiv", "hf": "HF"}
        return ", ".join(dict.fromkeys(short.get(s.split("-")[0], s) for s in paper.sources))


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
    readonly_fields = Feed.RUN_FIELDS
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
