"""Signed tokens: purpose-bound, tamper-evident, expiring only for confirmation, tied to the address."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from subscribers.preferences import PreferenceError, keywords_text, parse_authors, parse_keywords
from subscribers.tokens import Purpose, TokenExpired, TokenInvalid, address_tag, make_token, read_token


def test_a_token_reads_back_for_its_purpose() -> None:
    token = make_token(Purpose.MANAGE, subscriber_id=42, email="ada@example.org")
    data = read_token(Purpose.MANAGE, token)
    assert (data.subscriber_id, data.address_tag) == (42, address_tag("ada@example.org"))


# Written by the token signer before tokens were made by django.core.signing.dumps, with this key.
KEY = "a-key-for-this-test-" + "k" * 40
MAILED = (
    "eyJzIjo0MiwiYSI6IjAxMjM0NTY3ODkiLCJkIjoxMjM0NTY3ODl9:1vb66i:p6qA7z1jmdCS7BeDWTaKFNn62URnSyYkX1AfSMMNbxY"
)


def test_a_link_mailed_before_still_verifies(settings) -> None:
    settings.SECRET_KEY = KEY
    data = read_token(Purpose.DELIVERY, MAILED)
    assert (data.subscriber_id, data.address_tag, data.delivery_id) == (42, "0123456789", 123456789)


def test_tokens_are_written_as_they_were(settings) -> None:
    settings.SECRET_KEY = KEY
    with time_machine.travel(dt.datetime(2026, 1, 1, tzinfo=dt.UTC), tick=False):
        token = make_token(
            Purpose.DELIVERY,
            subscriber_id=42,
            email="ada@example.org",
            delivery_id=123456789,
            tag="0123456789",
        )
    assert token == MAILED


@pytest.mark.parametrize("other", [Purpose.CONFIRM, Purpose.UNSUBSCRIBE])
def test_a_token_is_refused_for_another_purpose(other: Purpose) -> None:
    token = make_token(Purpose.MANAGE, subscriber_id=42, email="ada@example.org")
    with pytest.raises(TokenInvalid):
        read_token(other, token)


def test_a_changed_character_is_refused() -> None:
    token = make_token(Purpose.UNSUBSCRIBE, subscriber_id=42, email="ada@example.org")
    flipped = token[:5] + ("A" if token[5] != "A" else "B") + token[6:]
    with pytest.raises(TokenInvalid):
        read_token(Purpose.UNSUBSCRIBE, flipped)


def test_only_confirmation_tokens_expire(settings) -> None:
    settings.CONFIRMATION_TOKEN_MAX_AGE = 3600
    with time_machine.travel(dt.datetime(2026, 1, 1, tzinfo=dt.UTC), tick=False):
        confirm = make_token(Purpose.CONFIRM, subscriber_id=1, email="a@example.org", consent_id=9)
        manage = make_token(Purpose.MANAGE, subscriber_id=1, email="a@example.org")
    with time_machine.travel(dt.datetime(2026, 6, 1, tzinfo=dt.UTC), tick=False):
        with pytest.raises(TokenExpired) as expired:
            read_token(Purpose.CONFIRM, confirm)
        assert expired.value.payload["c"] == 9
        assert read_token(Purpose.MANAGE, manage).subscriber_id == 1


def test_a_token_signed_with_another_key_is_refused(settings) -> None:
    token = make_token(Purpose.MANAGE, subscriber_id=1, email="a@example.org")
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40
    with pytest.raises(TokenInvalid):
        read_token(Purpose.MANAGE, token)


def test_keywords_split_into_included_and_excluded() -> None:
    assert parse_keywords('reasoning, "state space model", -robotics, - "world model" , ,') == (
        ["reasoning", "state space model"],
        ["robotics", "world model"],
    )
    assert keywords_text(["a", "b c"], ["d"]) == "a, b c, -d"


def test_authors_are_deduplicated_ignoring_case() -> None:
    assert parse_authors("Yann LeCun, yann lecun, Fei-Fei Li") == ["Yann LeCun", "Fei-Fei Li"]


@pytest.mark.parametrize("text", ["a\nb", "a\rb", "a\x00b", "a\tb"])
def test_control_characters_are_refused(text: str) -> None:
    with pytest.raises(PreferenceError):
        parse_keywords(text)
    with pytest.raises(PreferenceError):
        parse_authors(text)
