"""What readers chose on the site, in the admin: followed arXiv categories, cross-lists, saved searches."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client

from subscribers.models import SavedSearch, Subscriber
from tests.factories import SubscriberFactory

pytestmark = pytest.mark.django_db


def login(client: Client, role: str) -> Client:
    user = User.objects.create_user(
        f"{role.lower()}-user", f"{role.lower()}@example.org", "pw", is_staff=True
    )
    user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    return client


@pytest.fixture
def reader() -> Subscriber:
    reader = SubscriberFactory(
        email="ada@example.org", categories=["cs.CL", "hep-th"], include_crosslists=True
    )
    SavedSearch.objects.create(subscriber=reader, query="speculative decoding", filters={"category": "cs.CL"})
    SavedSearch.objects.create(subscriber=reader, query='"state space" -audio')
    return reader


def change_form(reader: Subscriber, **changes: object) -> dict[str, object]:
    form: dict[str, object] = {
        "keywords": "",
        "excluded_keywords": "",
        "authors": "",
        "categories": ", ".join(reader.categories),
        "cadence": reader.cadence,
        "timezone": reader.timezone,
        "send_hour": str(reader.send_hour),
        "max_papers": str(reader.max_papers),
        "send_weekday": str(reader.send_weekday),
        **{
            f"{prefix}-{key}": value
            for prefix in ("consents", "link_emails", "events")
            for key, value in (("TOTAL_FORMS", "0"), ("INITIAL_FORMS", "0"))
        },
    }
    searches = list(reader.saved_searches.all())
    form.update(
        {"saved_searches-TOTAL_FORMS": str(len(searches)), "saved_searches-INITIAL_FORMS": str(len(searches))}
    )
    for n, search in enumerate(searches):
        form[f"saved_searches-{n}-id"] = str(search.pk)
        form[f"saved_searches-{n}-subscriber"] = str(reader.pk)
    if reader.include_crosslists:
        form["include_crosslists"] = "on"
    form.update(changes)
    return {name: value for name, value in form.items() if value is not None}


def page(client: Client, reader: Subscriber) -> str:
    response = client.get(f"/admin/subscribers/subscriber/{reader.pk}/change/")
    assert response.status_code == 200
    return unescape(response.content.decode())


def test_admins_see_followed_categories_as_text_and_the_crosslists_flag(client, reader) -> None:
    html = page(login(client, "Admins"), reader)
    assert re.search(r'<textarea name="categories"[^>]*>\s*cs.CL, hep-th</textarea>', html)
    assert re.search(r'<input type="checkbox" name="include_crosslists"[^>]*checked', html)


def test_admins_edit_followed_categories_and_crosslists(client, reader) -> None:
    admin = login(client, "Admins")
    url = f"/admin/subscribers/subscriber/{reader.pk}/change/"
    response = admin.post(
        url, change_form(reader, categories="cs.cv\nmath.AP, astro-ph.GA", include_crosslists=None)
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    reader.refresh_from_db()
    assert reader.categories == ["cs.CV", "math.AP", "astro-ph.GA"] and not reader.include_crosslists


def test_it_refuses_a_followed_category_that_is_not_one(client, reader) -> None:
    admin = login(client, "Admins")
    url = f"/admin/subscribers/subscriber/{reader.pk}/change/"
    response = admin.post(url, change_form(reader, categories="cs CL"))
    assert response.status_code == 200 and "is not an arXiv category" in unescape(response.content.decode())
    reader.refresh_from_db()
    assert reader.categories == ["cs.CL", "hep-th"]


def test_admins_see_saved_searches_with_a_link_to_each(client, reader) -> None:
    html = page(login(client, "Admins"), reader)
    assert "Saved searches" in html
    assert "speculative decoding" in html and '"state space" -audio' in html
    assert 'href="/search/?q=speculative+decoding&category=cs.CL"' in html
    assert 'name="saved_searches-0-query"' not in html  # listed, not edited


def test_admins_delete_a_saved_search(client, reader) -> None:
    admin = login(client, "Admins")
    unwanted = reader.saved_searches.get(query="speculative decoding")
    index = list(reader.saved_searches.all()).index(unwanted)
    url = f"/admin/subscribers/subscriber/{reader.pk}/change/"
    response = admin.post(url, change_form(reader, **{f"saved_searches-{index}-DELETE": "on"}))
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert list(reader.saved_searches.values_list("query", flat=True)) == ['"state space" -audio']


def test_editors_see_no_saved_searches_and_change_nothing(client, reader) -> None:
    editor = login(client, "Editors")
    html = page(editor, reader)
    assert "speculative decoding" not in html and "Saved searches" not in html
    assert 'name="categories"' not in html  # read-only, as every field is for them
    url = f"/admin/subscribers/subscriber/{reader.pk}/change/"
    assert editor.post(url, change_form(reader, categories="math.AP")).status_code == 403
    reader.refresh_from_db()
    assert reader.categories == ["cs.CL", "hep-th"] and reader.saved_searches.count() == 2


def test_only_admins_hold_the_saved_search_permissions() -> None:
    def holds(role: str) -> set[str]:
        perms = Permission.objects.filter(group__name=role, content_type__model="savedsearch")
        return set(perms.values_list("codename", flat=True))

    assert holds("Admins") == {"view_savedsearch", "delete_savedsearch"}
    assert holds("Editors") == set()
