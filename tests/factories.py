"""factory_boy factories for the models the tests build."""

from __future__ import annotations

import factory

from papers.models import Feed, Paper


class FeedFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Feed

    slug = factory.Sequence(lambda n: f"feed-{n}")
    name = factory.LazyAttribute(lambda feed: f"Feed {feed.slug}")
    kind = Feed.Kind.ARXIV_RSS
    url = "http://127.0.0.1:9/rss/cs.CL"


class PaperFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Paper

    arxiv_id = factory.Sequence(lambda n: f"2611.{10000 + n}")
    version = 1
    title = factory.Sequence(lambda n: f"A study of thing number {n}")
    abstract = "We study things."
    author_names = factory.LazyFunction(lambda: ["Ann Lee", "Bo Li"])
    primary_category = "cs.CL"
    categories = factory.LazyFunction(lambda: ["cs.CL"])
    sources = factory.LazyFunction(lambda: ["arxiv-rss"])
