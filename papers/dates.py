"""Days, ISO weeks and months as the site's URLs name them (2026-11-24, 2026-W48, 2026-11)."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

FIRST_YEAR = 1991  # arXiv's first year: nothing is announced before


@dataclass(frozen=True)
class Period:
    """A week or a month of announcement days, with its neighbours for the previous/next links."""

    kind: str  # "week" or "month"
    first: dt.date
    last: dt.date
    label: str
    slug: str  # as in the URL: "2026-W48" or "2026-11"
    previous: tuple[str, str] | None  # URL arguments (year, week or month)
    next: tuple[str, str]


def parse_day(text: str) -> dt.date | None:
    """Return the date ``YYYY-MM-DD`` names, or None when it names no date in arXiv's years."""
    try:
        day = dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    if len(text) != 10 or not FIRST_YEAR <= day.year <= 9998:
        return None
    return day


def iso_week(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_period(year: int, week: int) -> Period | None:
    """Return ISO week ``week`` of ``year`` (Monday to Sunday), or None when there is no such week."""
    try:
        first = dt.date.fromisocalendar(year, week, 1)
    except ValueError:
        return None
    if not FIRST_YEAR <= year <= 9998:
        return None
    last = first + dt.timedelta(days=6)
    before, after = first - dt.timedelta(days=7), first + dt.timedelta(days=7)
    label = f"Week {week}, {year} ({first:%-d %b} to {last:%-d %b %Y})"
    return Period(
        "week",
        first,
        last,
        label,
        f"{year}-W{week:02d}",
        _week_args(before) if before.year >= FIRST_YEAR else None,
        _week_args(after),
    )


def _week_args(day: dt.date) -> tuple[str, str]:
    year, week, _ = day.isocalendar()
    return str(year), f"{week:02d}"


def month_period(year: int, month: int) -> Period | None:
    """Return the month ``year``-``month``, or None when there is no such month."""
    if not (1 <= month <= 12 and FIRST_YEAR <= year <= 9998):
        return None
    first = dt.date(year, month, 1)
    last = dt.date(year, month, calendar.monthrange(year, month)[1])
    before = first - dt.timedelta(days=1)
    after = last + dt.timedelta(days=1)
    return Period(
        "month",
        first,
        last,
        f"{first:%B %Y}",
        f"{year}-{month:02d}",
        (str(before.year), f"{before.month:02d}") if before.year >= FIRST_YEAR else None,
        (str(after.year), f"{after.month:02d}"),
    )
