"""Public Atom feeds: a day's papers and a search's newest matches."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.http import urlencode

from papers import dates, presentation, selectors
from papers.models import Paper
from papers.site_forms import SearchForm

FEED_ITEMS = 100


class PaperFeed(Feed):
    """What every papers feed shares: an item per paper, linking to its page here."""

    feed_type = Atom1Feed

    def item_title(self, item: Paper) -> str:
        return item.title

    def item_description(self, item: Paper) -> str:
        authors = presentation.short_authors(item.author_names)
        return f"{authors}\n\n{item.ai_summary or item.abstract}"

    def item_link(self, item: Paper) -> str:
        return reverse("papers:paper", args=[item.arxiv_id])

    def item_guid(self, item: Paper) -> str:
        return f"{settings.SITE_URL}{reverse('papers:paper', args=[item.arxiv_id])}"

    item_guid_is_permalink = True

    def item_author_name(self, item: Paper) -> str:
        return presentation.short_authors(item.author_names)

    def item_categories(self, item: Paper) -> Sequence[str]:
        return item.categories or []

    def item_pubdate(self, item: Paper) -> dt.datetime | None:
        if item.announced_on is None:
            return None
        return dt.datetime.combine(item.announced_on, dt.time(0), tzinfo=dt.UTC)

    def item_updateddate(self, item: Paper) -> dt.datetime | None:
        return self.item_pubdate(item)


class DayFeed(PaperFeed):
    """The papers announced on a day (the latest one at /papers/feed/)."""

    def get_object(self, request: HttpRequest, day: str = "") -> dt.date | None:
        if not day:
            return selectors.latest_day()
        date = dates.parse_day(day)
        if date is None:
            raise Http404("No such day.")
        return date

    def title(self, obj: dt.date | None) -> str:
        return f"papermail: papers of {obj:%-d %B %Y}" if obj else "papermail: papers"

    def link(self, obj: dt.date | None) -> str:
        return reverse("papers:day", args=[obj.isoformat()]) if obj else reverse("papers:latest")

    def subtitle(self, obj: dt.date | None) -> str:
        return "The research papers announced that day, most upvoted first."

    def items(self, obj: dt.date | None) -> list[Paper]:
        if obj is None:
            return []
        return selectors.day_papers(day=obj, page=1).papers[:FEED_ITEMS]


class SearchFeed(PaperFeed):
    """The newest papers a search finds: follow a search in a feed reader."""

    def get_object(self, request: HttpRequest) -> SearchForm:
        form = SearchForm(request.GET)
        if not form.is_valid() or not form.cleaned_data["q"]:
            raise Http404("A search feed needs a valid search (?q=...).")
        return form

    def title(self, obj: SearchForm) -> str:
        return f"papermail: papers matching “{obj.cleaned_data['q']}”"

    def link(self, obj: SearchForm) -> str:
        return f"{reverse('papers:search')}?{urlencode(_search_args(obj))}"

    def subtitle(self, obj: SearchForm) -> str:
        return "The newest papers matching this search."

    def items(self, obj: SearchForm) -> list[Paper]:
        return selectors.search_newest(query=obj.cleaned_data["q"], filters=obj.filters(), limit=50)


def _search_args(form: SearchForm) -> dict[str, str]:
    filters = form.filters().as_dict()
    return {"q": form.cleaned_data["q"], **filters}
