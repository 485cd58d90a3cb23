"""factory_boy factories for the models the tests build."""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

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
    announced_on = None
    # First seen the night it was announced, as the arXiv listing brings it.
    first_seen_at = factory.LazyAttribute(
        lambda p: (
            dt.datetime.combine(p.announced_on, dt.time(1), tzinfo=dt.UTC)
            if p.announced_on
            else timezone.now()
        )
    )


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "papers.Topic"
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Topic {n}")
    slug = factory.Sequence(lambda n: f"topic-{n}")
    categories = factory.LazyFunction(lambda: ["cs.CL"])
    include_keywords = factory.LazyFunction(list)
    exclude_keywords = factory.LazyFunction(list)


class SubscriberFactory(factory.django.DjangoModelFactory):
    """An active (confirmed) subscriber."""

    class Meta:
        model = "subscribers.Subscriber"
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"reader{n}@example.org")
    status = "active"
    cadence = "daily"
    timezone = "Europe/Paris"
    send_hour = 7
    keywords = factory.LazyFunction(list)
    authors = factory.LazyFunction(list)

    @factory.post_generation
    def topics(self, create: bool, extracted, **kwargs) -> None:  # type: ignore[no-untyped-def]
        if create and extracted:
            self.topics.set(extracted)
