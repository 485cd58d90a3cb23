"""Hostile input, fuzzed with Hypothesis: forms, feed documents and webhook payloads never crash or leak."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from papers import feeds, services
from papers.feeds.entries import FeedError
from papers.models import FetchRun
from subscribers.models import Subscriber
from tests.conftest import DEMO, SAMPLES

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=300)
HOSTILE = st.one_of(
    TEXT,
    st.sampled_from(
        [
            "a@b.c\r\nBcc: x@y.z",
            "\n",
            "\x00",
            "<script>alert(1)</script>",
            "a" * 5000,
            "ǅ@例え.テスト",
            "@",
            "x@",
            '"a"@b.org',
            "a@[127.0.0.1]",
        ]
    ),
)


@pytest.mark.django_db
@FUZZ
@given(email=HOSTILE, keywords=HOSTILE, authors=HOSTILE, timezone=HOSTILE, hour=HOSTILE)
def test_the_sign_up_form_never_crashes_and_never_stores_bad_input(
    client, email, keywords, authors, timezone, hour
) -> None:
    data = {
        "email": email,
        "topics": ["llm"],
        "keywords": keywords,
        "authors": authors,
        "cadence": "daily",
        "timezone": timezone,
        "send_hour": hour,
    }
    response = client.post("/subscribe/", data)
    assert response.status_code in (302, 400, 429)
    for subscriber in Subscriber.objects.all():
        assert "\n" not in subscriber.email and "\r" not in subscriber.email and len(subscriber.email) <= 254
        assert all("\n" not in k and "\r" not in k for k in subscriber.keywords)
    if response.status_code == 400:
        assert "<script>alert(1)</script>" not in response.content.decode()


def _mutations(data: bytes):  # type: ignore[no-untyped-def]
    return st.lists(
        st.tuples(
            st.integers(0, max(0, len(data) - 1)),
            st.sampled_from(["drop", "dup", "flip", "cut"]),
            st.binary(max_size=8),
        ),
        min_size=1,
        max_size=6,
    )


def _mutate(data: bytes, edits) -> bytes:  # type: ignore[no-untyped-def]
    for position, kind, noise in edits:
        if kind == "drop":
            data = data[:position] + data[position + 16 :]
        elif kind == "dup":
            data = data[:position] + data[position : position + 32] * 2 + data[position + 32 :]
        elif kind == "flip":
            data = data[:position] + noise + data[position + len(noise) :]
        else:
            data = data[:position]
    return data


DOCUMENTS = [
    (DEMO / "arxiv_cs.CL_2026-11-24.xml").read_bytes(),
    (DEMO / "hf_daily_papers_2026-11-24.json").read_bytes(),
    (SAMPLES / "arxiv_api_current.atom").read_bytes(),
    (SAMPLES / "hf_rss.xml").read_bytes(),
]


@pytest.mark.parametrize("document", DOCUMENTS, ids=["arxiv-rss", "hf-json", "arxiv-api", "hf-rss"])
@FUZZ
@given(data=st.data())
def test_mutated_documents_parse_or_fail_clearly(document: bytes, data) -> None:
    mutated = _mutate(document, data.draw(_mutations(document)))
    try:
        parsed = feeds.parse(mutated)
    except FeedError as error:
        assert str(error)
        return
    for entry in parsed.entries:
        assert entry.arxiv_id and entry.title
    assert all(skip.reason for skip in parsed.skipped)


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_documents_never_crash_the_ingest(data) -> None:
    document = data.draw(st.sampled_from(DOCUMENTS))
    mutated = _mutate(document, data.draw(_mutations(document)))
    run = services.document_ingest(data=mutated, source="fuzz")
    assert run.status in (FetchRun.Status.OK, FetchRun.Status.ERROR)
    assert not run.error.startswith("internal error"), run.error
    if run.status == FetchRun.Status.OK:
        assert run.new + run.updated + run.unchanged + run.skipped >= 0


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=12,
)


@pytest.mark.django_db
@FUZZ
@given(
    payload=st.one_of(
        JSONISH,
        st.fixed_dictionaries(
            {
                "RecordType": st.sampled_from(["Bounce", "Delivery", "SpamComplaint", "SubscriptionChange"]),
                "Type": TEXT,
                "Email": TEXT,
                "ID": st.integers() | TEXT,
                "Metadata": JSONISH,
            }
        ),
    )
)
def test_webhooks_answer_malformed_or_forged_payloads_without_a_500(
    client, settings, webhook_provider, payload
) -> None:
    webhook_provider("postmark")
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": "hook:s3cret"}
    body = json.dumps(payload)
    forged = client.post(
        "/anymail/postmark/tracking/",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"hook:wrong").decode(),
    )
    assert forged.status_code in (400, 401, 403)
    genuine = client.post(
        "/anymail/postmark/tracking/",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"hook:s3cret").decode(),
    )
    assert genuine.status_code in (200, 400)
    replay = client.post(
        "/anymail/postmark/tracking/",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"hook:s3cret").decode(),
    )
    assert replay.status_code == genuine.status_code
