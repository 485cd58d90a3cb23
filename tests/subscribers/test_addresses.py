"""One mailbox, one subscriber: addresses are stored, looked up, hashed and sent to in one canonical form."""

from __future__ import annotations

import base64
import importlib
import json

import pytest
from django.apps import apps
from django.core import mail

from newsletter.models import TrackingEvent
from subscribers.addresses import canonical_email
from subscribers.models import ConsentRecord, Subscriber, SubscriberEvent, Suppression
from subscribers.tokens import Purpose, email_hash, make_token
from tests.factories import SubscriberFactory
from tests.subscribers.conftest import link

pytestmark = pytest.mark.django_db

IDN = "user@bücher.de"
PUNYCODE = "user@xn--bcher-kva.de"


def test_it_writes_an_idn_domain_as_punycode_and_lowercases_the_address() -> None:
    assert canonical_email(IDN) == PUNYCODE
    assert canonical_email(" User@BÜCHER.De ") == PUNYCODE
    assert canonical_email("User@XN--BCHER-KVA.DE") == PUNYCODE
    assert canonical_email("Ada@Example.org") == "ada@example.org"


def test_it_keeps_an_address_with_an_unencodable_domain_as_typed_but_lowercased() -> None:
    assert canonical_email("A@☃.De") == "a@☃.de"  # a lookup never raises


def test_it_makes_one_subscriber_of_an_idn_mailbox_written_two_ways(signup) -> None:
    for email in (IDN, PUNYCODE, "USER@Bücher.DE"):
        assert signup(email).status_code == 302
    subscriber = Subscriber.objects.get()
    assert subscriber.email == PUNYCODE
    assert ConsentRecord.objects.filter(subscriber=subscriber).count() == 3
    assert [m.to for m in mail.outbox] == [[PUNYCODE]] * 3


def test_it_hashes_both_forms_of_an_address_alike() -> None:
    assert email_hash(IDN) == email_hash(PUNYCODE) == email_hash("User@BÜCHER.de")


def test_a_bounce_for_either_form_suppresses_the_one_subscriber(
    client, settings, signup, post, webhook_provider
) -> None:
    webhook_provider("postmark")
    signup(IDN)
    post(link("confirm"))
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": "hook:s3cret-value"}
    auth = "Basic " + base64.b64encode(b"hook:s3cret-value").decode()
    payload = {"RecordType": "Bounce", "ID": 42, "Type": "HardBounce", "TypeCode": 1, "Email": IDN}
    response = client.post(
        "/anymail/postmark/tracking/",
        json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=auth,
    )
    assert response.status_code == 200
    subscriber = Subscriber.objects.get()
    assert (subscriber.status, subscriber.suppressed_reason) == ("suppressed", "hard_bounce")
    assert TrackingEvent.objects.get().subscriber == subscriber
    assert Suppression.objects.get().email_hash == email_hash(PUNYCODE)


def test_asking_for_a_new_link_with_the_other_form_finds_the_subscriber(signup, post) -> None:
    signup(PUNYCODE)
    post(link("confirm"))
    mail.outbox.clear()
    post("/subscribe/new-link/", {"email": "User@Bücher.de"})
    assert [m.to for m in mail.outbox] == [[PUNYCODE]]


def test_erasing_remembers_the_canonical_address(signup, post) -> None:
    signup(IDN)
    post(link("confirm"))
    subscriber = Subscriber.objects.get()
    token = make_token(Purpose.MANAGE, subscriber_id=subscriber.pk, email=subscriber.email)
    post(f"/manage/{token}/erase/", {"confirm": "erase"})
    assert Suppression.objects.get().email_hash == email_hash(PUNYCODE) == email_hash(IDN)


def _too_long_when_lowercased() -> str:
    # "İ" lowercases to two characters ("i" and a combining dot): 254 typed, more than 254 stored.
    address = "İ" * 130 + "@example.org"
    address = "a" * (254 - len(address)) + address
    assert len(address) == 254 and len(address.lower()) > 254
    return address


def _too_long_in_punycode() -> str:
    labels = ".".join(["ü" * 40] * 5)
    address = f"a@{labels}.de"
    address = "a" * (254 - len(address)) + address
    assert len(address) <= 254
    return address


@pytest.mark.parametrize("address", [_too_long_when_lowercased(), _too_long_in_punycode()])
def test_it_refuses_an_address_whose_stored_form_would_be_too_long(signup, address: str) -> None:
    for _ in range(2):  # the second attempt used to find the truncated row and fail with a 500
        response = signup(address)
        assert response.status_code == 400
        assert "This address is too long" in response.content.decode()
    assert not Subscriber.objects.exists() and not mail.outbox


def test_it_refuses_a_domain_that_is_not_a_valid_international_name(signup) -> None:
    response = signup("a@☃.de")
    assert response.status_code == 400
    assert not Subscriber.objects.exists()


# --- Existing rows ----------------------------------------------------------------------------------


def _migrate() -> None:
    importlib.import_module("subscribers.migrations.0008_canonical_email_addresses").canonicalise(apps, None)


def test_the_migration_rewrites_stored_addresses_in_the_canonical_form() -> None:
    ada = SubscriberFactory(email="ada@bücher.de")
    bob = SubscriberFactory(email="bob@example.org")
    _migrate()
    ada.refresh_from_db()
    bob.refresh_from_db()
    assert (ada.email, bob.email) == ("ada@xn--bcher-kva.de", "bob@example.org")


def test_the_migration_merges_two_rows_for_one_mailbox_into_the_older(capsys) -> None:
    older = SubscriberFactory(email=PUNYCODE, status="active")
    newer = SubscriberFactory(email=IDN, status="active")
    ConsentRecord.objects.create(subscriber=newer, form_id="signup-web", wording_version="v", wording="w")
    SubscriberEvent.objects.create(subscriber=newer, kind="subscribed")
    _migrate()
    kept = Subscriber.objects.get()
    assert kept.pk == older.pk and kept.email == PUNYCODE
    assert kept.consents.count() == 1 and kept.events.filter(kind="subscribed").exists()
    assert f"merged subscriber {newer.pk}" in capsys.readouterr().out


def test_the_migration_keeps_a_suppression_of_either_row() -> None:
    older = SubscriberFactory(email=PUNYCODE, status="active")
    newer = SubscriberFactory(email=IDN, status="suppressed", suppressed_reason="hard_bounce")
    Suppression.objects.create(email_hash=_legacy_hash(IDN), reason="hard_bounce")
    _migrate()
    kept = Subscriber.objects.get()
    assert kept.pk == older.pk
    assert (kept.status, kept.suppressed_reason) == ("suppressed", "hard_bounce")
    assert Suppression.objects.filter(email_hash=email_hash(PUNYCODE), reason="hard_bounce").exists()
    assert newer.pk != kept.pk


def test_the_migration_suppresses_a_row_whose_other_form_bounced() -> None:
    ada = SubscriberFactory(email=IDN, status="active")  # the bounce came in for the punycode form
    Suppression.objects.create(email_hash=_legacy_hash(PUNYCODE), reason="hard_bounce")
    _migrate()
    ada.refresh_from_db()
    assert (ada.email, ada.status, ada.suppressed_reason) == (PUNYCODE, "suppressed", "hard_bounce")


def test_links_mailed_before_the_migration_still_work(client) -> None:
    from subscribers.tokens import _keyed_hash

    ada = SubscriberFactory(email=IDN, status="active")
    old_tag = _keyed_hash(_key(), IDN)[:10]  # what address_tag gave for the stored form then
    token = make_token(Purpose.UNSUBSCRIBE, subscriber_id=ada.pk, email=IDN, tag=old_tag)
    _migrate()
    assert client.get(f"/unsubscribe/{token}/").status_code == 200


def _key() -> str:
    from django.conf import settings

    return settings.SUPPRESSION_HASH_KEY


def _legacy_hash(address: str) -> str:
    """The hash as it was computed before addresses had a canonical form: lowercased, nothing more."""
    from subscribers.tokens import _keyed_hash

    return _keyed_hash(_key(), address.strip().lower())
