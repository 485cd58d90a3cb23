"""``field__any``: registered by newsletter on the field types its digest path filters by long lists."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from papers.models import Paper
from subscribers.models import Subscriber, Suppression

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_it_filters_ids_and_hashes_with_one_array_parameter() -> None:
    kept = Subscriber.objects.create(email="a@example.org")
    Subscriber.objects.create(email="b@example.org")
    Suppression.objects.create(email_hash="f" * 64)
    with CaptureQueriesContext(connection) as queries:
        assert list(Subscriber.objects.filter(pk__any=[kept.pk, 0])) == [kept]
        assert Suppression.objects.filter(email_hash__any=["f" * 64, "e" * 64]).count() == 1
    assert all("= ANY(" in query["sql"] for query in queries)


def test_it_is_not_offered_on_fields_nobody_filters_that_way() -> None:
    assert Paper._meta.get_field("announced_on").get_lookup("any") is None
    assert Paper._meta.get_field("upvotes").get_lookup("any") is None
