"""The public papers site: the day's papers, trending weeks and months, a page per paper, and search.

Thin: parse the URL, read through papers.selectors, render. Every page here is
the same for every visitor, so each is kept whole in the site cache.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_safe

from papers import dates, presentation, selectors, similar, site_cache
from papers.site_forms import SearchForm


def _page_number(request: HttpRequest) -> int:
    """Return the ?page= asked for; a page that is not a number, or too deep, is not found."""
    raw = request.GET.get("page", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= settings.SITE_MAX_PAGES:
        raise Http404("No such page.")
    return int(raw)


def _day_page(request: HttpRequest, day: dt.date | None, *, home: bool = False) -> HttpResponse:
    number = _page_number(request)
    first, last = selectors.days_span()
    context = {
        "day": day,
        "home": home,
        "first_day": first,
        "last_day": last,
        "page": selectors.day_papers(day=day, page=number) if day else selectors.PaperPage([]),
        "before": None,
        "after": None,
        "week": dates.iso_week(day) if day else "",
        "month": day.strftime("%Y-%m") if day else "",
        "nav": "daily",
    }
    if day:
        context["before"], context["after"] = selectors.days_around(day=day)
    if number > 1 and not context["page"].papers:
        raise Http404("No such page.")
    return render(request, "papers/day.html", context)


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """The latest announcement day's papers, with the call to subscribe."""
    return site_cache.cached_page(request, lambda: _day_page(request, selectors.latest_day(), home=True))


@require_safe
def latest(request: HttpRequest) -> HttpResponse:
    return site_cache.cached_page(request, lambda: _day_page(request, selectors.latest_day()))


@require_safe
def day(request: HttpRequest, day: str) -> HttpResponse:
    date = dates.parse_day(day)
    if date is None:
        raise Http404("No such day.")
    return site_cache.cached_page(request, lambda: _day_page(request, date))


@require_safe
def day_picker(request: HttpRequest) -> HttpResponseRedirect:
    """Where the date picker's form goes: the day chosen, or the latest for a date that is not one."""
    date = dates.parse_day(request.GET.get("date", ""))
    if date is None:
        return HttpResponseRedirect(reverse("papers:latest"))
    return HttpResponseRedirect(reverse("papers:day", args=[date.isoformat()]))


def _trending_page(request: HttpRequest, period: dates.Period) -> HttpResponse:
    context = {
        "period": period,
        "papers": selectors.trending(first=period.first, last=period.last),
        "today": dt.date.today(),
        "nav": period.kind,
    }
    return render(request, "papers/trending.html", context)


@require_safe
def week(request: HttpRequest, year: str, week: str) -> HttpResponse:
    period = dates.week_period(int(year), int(week))
    if period is None:
        raise Http404("No such week.")
    return site_cache.cached_page(request, lambda: _trending_page(request, period))


@require_safe
def month(request: HttpRequest, year: str, month: str) -> HttpResponse:
    period = dates.month_period(int(year), int(month))
    if period is None:
        raise Http404("No such month.")
    return site_cache.cached_page(request, lambda: _trending_page(request, period))


@require_safe
def this_week(request: HttpRequest) -> HttpResponseRedirect:
    day = selectors.latest_day() or dt.date.today()
    year, number, _ = day.isocalendar()
    return HttpResponseRedirect(reverse("papers:week", args=[str(year), f"{number:02d}"]))


@require_safe
def this_month(request: HttpRequest) -> HttpResponseRedirect:
    day = selectors.latest_day() or dt.date.today()
    return HttpResponseRedirect(reverse("papers:month", args=[str(day.year), f"{day.month:02d}"]))


@require_safe
def paper(request: HttpRequest, arxiv_id: str) -> HttpResponse:
    def page() -> HttpResponse:
        found = selectors.paper_by_arxiv_id(arxiv_id)
        if found is None:
            raise Http404("No paper with this arXiv id here.")
        context = {
            "paper": found,
            "versions": presentation.version_links(found.arxiv_id, found.version),
            "similar": similar.similar_papers(found, 6),
        }
        return render(request, "papers/paper.html", context)

    return site_cache.cached_page(request, page)


@require_safe
def search(request: HttpRequest) -> HttpResponse:
    def page() -> HttpResponse:
        form = SearchForm(request.GET)
        context: dict[str, object] = {"form": form, "results": None}
        status = 200
        if form.is_valid() and form.cleaned_data["q"]:
            filters = form.filters()
            context["results"] = selectors.search_papers(
                query=form.cleaned_data["q"], filters=filters, page=_page_number(request)
            )
            context["search_args"] = urlencode({"q": form.cleaned_data["q"], **filters.as_dict()})
        elif form.errors:
            status = 400
        return render(request, "papers/search.html", context, status=status)

    return site_cache.cached_page(request, page)
