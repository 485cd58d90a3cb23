"""Dispatch and the outbox: who is due when, exactly one digest each, recovery, and bounded queries."""

from __future__ import annotations

import datetime as dt
import time
from types import SimpleNamespace

import pytest
import time_machine
from django.core import mail
from django.db import OperationalError

from newsletter import dispatch, emails, planning, sending
from newsletter.models import Delivery, DeliveryItem
from papers.models import Paper
from subscribers.models import Subscriber, Suppression
from subscribers.tokens import email_hash
from tests.concurrency import at_once
from tests.factories import PaperFactory, SubscriberFactory
from tests.newsletter.conftest import DAY, PARIS_SEVEN

pytestmark = pytest.mark.django_db
UTC = dt.UTC


def due_at(when: dt.datetime) -> list[tuple[str, str, dt.date]]:
    return sorted(
        (address, cadence, local_date)
        for cadence, local_date, subscribers in dispatch.due_groups(now=when)
        for address in subscribers.values_list("email", flat=True)
    )


def dispatch_and_send(when: dt.datetime) -> dispatch.DispatchResult:
    with time_machine.travel(when, tick=False):
        result = dispatch.digests_dispatch(now=when)
        for chunk in result.chunks:
            sending.chunk_send(delivery_ids=chunk, now=when)
    return result


# --- who is due ---------------------------------------------------------------------------------------


def test_subscribers_are_due_at_their_own_local_hour() -> None:
    SubscriberFactory(email="paris@example.org", timezone="Europe/Paris", send_hour=7)
    SubscriberFactory(email="ny@example.org", timezone="America/New_York", send_hour=7)
    assert due_at(PARIS_SEVEN) == [("paris@example.org", "daily", dt.date(2026, 11, 25))]
    assert due_at(dt.datetime(2026, 11, 25, 12, 0, tzinfo=UTC)) == [
        ("ny@example.org", "daily", dt.date(2026, 11, 25))
    ]


def test_the_edition_is_the_subscribers_local_date_across_midnight() -> None:
    SubscriberFactory(email="akl@example.org", timezone="Pacific/Auckland", send_hour=7)
    SubscriberFactory(email="hnl@example.org", timezone="Pacific/Honolulu", send_hour=20)
    # 18:00 UTC on the 24th is 07:00 on the 25th in Auckland and 08:00 on the 24th in Honolulu.
    assert due_at(dt.datetime(2026, 11, 24, 18, 0, tzinfo=UTC)) == [
        ("akl@example.org", "daily", dt.date(2026, 11, 25))
    ]
    # 06:00 UTC on the 25th is 20:00 on the 24th in Honolulu.
    assert due_at(dt.datetime(2026, 11, 25, 6, 0, tzinfo=UTC)) == [
        ("hnl@example.org", "daily", dt.date(2026, 11, 24))
    ]


def test_daylight_saving_moves_the_utc_hour_not_the_local_one() -> None:
    SubscriberFactory(email="ny@example.org", timezone="America/New_York", send_hour=7)
    # New York leaves DST on Sunday 1 November 2026: 07:00 EDT is 11:00 UTC, 07:00 EST is 12:00 UTC.
    assert due_at(dt.datetime(2026, 10, 31, 11, 0, tzinfo=UTC)) == [
        ("ny@example.org", "daily", dt.date(2026, 10, 31))
    ]
    assert due_at(dt.datetime(2026, 11, 2, 11, 0, tzinfo=UTC)) == []
    assert due_at(dt.datetime(2026, 11, 2, 12, 0, tzinfo=UTC)) == [
        ("ny@example.org", "daily", dt.date(2026, 11, 2))
    ]


def test_an_hour_skipped_by_spring_forward_is_caught_up() -> None:
    SubscriberFactory(email="paris@example.org", timezone="Europe/Paris", send_hour=2)
    # 29 March 2026: Paris jumps from 02:00 to 03:00; 01:15 UTC is 03:15 CEST.
    assert due_at(dt.datetime(2026, 3, 29, 1, 15, tzinfo=UTC)) == [
        ("paris@example.org", "daily", dt.date(2026, 3, 29))
    ]


def test_weekly_subscribers_are_due_on_their_weekday_only() -> None:
    SubscriberFactory(
        email="weekly@example.org", cadence="weekly", send_weekday=0, timezone="Europe/Paris", send_hour=7
    )
    monday = dt.datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    assert due_at(monday) == [("weekly@example.org", "weekly", dt.date(2026, 11, 23))]
    assert due_at(monday + dt.timedelta(days=1)) == []


def test_a_missed_dispatcher_run_catches_up_later_that_day() -> None:
    SubscriberFactory(email="paris@example.org", timezone="Europe/Paris", send_hour=7)
    assert due_at(PARIS_SEVEN + dt.timedelta(hours=3)) != []
    assert due_at(PARIS_SEVEN + dt.timedelta(hours=6)) == []
    assert due_at(PARIS_SEVEN - dt.timedelta(minutes=1)) == []


def test_paused_unsubscribed_pending_and_suppressed_are_never_due() -> None:
    for status in ("paused", "unsubscribed", "pending", "suppressed"):
        SubscriberFactory(email=f"{status}@example.org", status=status)
    assert due_at(PARIS_SEVEN) == []


# --- exactly once -------------------------------------------------------------------------------------


def test_dispatching_twice_creates_and_sends_one_digest(llm, papers) -> None:
    SubscriberFactory(email="ada@example.org", topics=[llm])
    first = dispatch_and_send(PARIS_SEVEN)
    second = dispatch_and_send(PARIS_SEVEN + dt.timedelta(minutes=15))
    assert (first.created, second.due, second.enqueued) == (1, 0, 0)
    assert len(mail.outbox) == 1
    delivery = Delivery.objects.get()
    assert delivery.state == Delivery.State.SENT and delivery.sent_at is not None and delivery.message_id


def test_a_chunk_task_delivered_twice_sends_once(llm, papers) -> None:
    SubscriberFactory(email="ada@example.org", topics=[llm])
    result = dispatch.digests_dispatch(now=PARIS_SEVEN)
    [chunk] = result.chunks
    sending.chunk_send(delivery_ids=chunk, now=PARIS_SEVEN)
    again = sending.chunk_send(delivery_ids=chunk, now=PARIS_SEVEN)
    assert again.claimed == 0 and len(mail.outbox) == 1


def test_a_worker_lost_after_claiming_is_recovered_after_the_lease(llm, papers, settings) -> None:
    SubscriberFactory(email="ada@example.org", topics=[llm])
    result = dispatch.digests_dispatch(now=PARIS_SEVEN)
    sending.deliveries_claim(delivery_ids=result.chunks[0], now=PARIS_SEVEN)  # ...and the worker dies
    assert dispatch_and_send(PARIS_SEVEN + dt.timedelta(minutes=15)).recovered == 0  # lease still held
    assert mail.outbox == []
    later = PARIS_SEVEN + dt.timedelta(seconds=settings.DIGEST_LEASE_SECONDS + 60)
    assert dispatch_and_send(later).recovered == 1
    assert len(mail.outbox) == 1
    assert Delivery.objects.get().attempts == 2


def test_a_row_lost_on_its_last_attempt_is_failed_not_sent_again(llm, papers, settings) -> None:
    settings.DIGEST_MAX_ATTEMPTS = 2
    SubscriberFactory(email="ada@example.org", topics=[llm])
    result = dispatch.digests_dispatch(now=PARIS_SEVEN)
    Delivery.objects.update(attempts=1)  # one try already failed
    sending.deliveries_claim(delivery_ids=result.chunks[0], now=PARIS_SEVEN)  # ...the second is lost
    later = PARIS_SEVEN + dt.timedelta(seconds=settings.DIGEST_LEASE_SECONDS + 60)
    assert dispatch_and_send(later).recovered == 0
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts) == (Delivery.State.FAILED, 2)
    assert delivery.last_error.startswith("gave up after 2 attempts: lease expired")
    assert mail.outbox == []


def test_a_retry_after_a_crash_sends_the_papers_first_chosen(llm, papers, settings) -> None:
    subscriber = SubscriberFactory(email="ada@example.org", topics=[llm])
    result = dispatch.digests_dispatch(now=PARIS_SEVEN)
    ids = sending.deliveries_claim(delivery_ids=result.chunks[0], now=PARIS_SEVEN)
    plan = planning.chunk_plan(deliveries=planning.deliveries_for_chunk(ids))
    sending.plan_record(plan)  # the worker recorded the papers, then died before sending
    chosen = list(DeliveryItem.objects.values_list("paper__arxiv_id", flat=True))
    PaperFactory(
        title="A late, loud language model paper", categories=["cs.CL"], announced_on=DAY, upvotes=999
    )
    later = PARIS_SEVEN + dt.timedelta(seconds=settings.DIGEST_LEASE_SECONDS + 60)
    dispatch_and_send(later)
    assert list(DeliveryItem.objects.values_list("paper__arxiv_id", flat=True)) == chosen
    assert "late, loud" not in mail.outbox[0].body
    assert subscriber.deliveries.get().state == Delivery.State.SENT


def test_an_editors_change_between_two_chunks_reaches_the_next_chunk(llm, papers) -> None:
    # A worker keeps the papers it read for the next chunk; a changed row must replace them.
    SubscriberFactory(email="ada@example.org", topics=[llm])
    SubscriberFactory(email="bob@example.org", topics=[llm])
    with time_machine.travel(PARIS_SEVEN, tick=False):
        result = dispatch.digests_dispatch(now=PARIS_SEVEN)
        first, second = sorted(pk for chunk in result.chunks for pk in chunk)
        sending.chunk_send(delivery_ids=[first], now=PARIS_SEVEN)
        assert "Reasoning with verifiers" in mail.outbox[0].body
        assert "Parsing at scale" in mail.outbox[0].body
        Paper.objects.filter(arxiv_id="2611.00001").update(title="Reasoning with checkers")
        Paper.objects.filter(arxiv_id="2611.00002").update(hidden=True)
        sending.chunk_send(delivery_ids=[second], now=PARIS_SEVEN)
    body = mail.outbox[1].body
    assert "Reasoning with checkers" in body and "Reasoning with verifiers" not in body
    assert "Parsing at scale" not in body


def test_deleting_a_paper_or_a_subscriber_takes_their_digest_items_with_them(llm, papers) -> None:
    # The item table's keys are kept by Django (no database constraint): the ORM must cascade.
    ada = SubscriberFactory(email="ada@example.org", topics=[llm])
    SubscriberFactory(email="bob@example.org", topics=[llm])
    dispatch_and_send(PARIS_SEVEN)
    sent = list(DeliveryItem.objects.filter(delivery__subscriber=ada).values_list("paper_id", flat=True))
    assert len(sent) >= 2 and DeliveryItem.objects.count() == 2 * len(sent)

    Paper.objects.filter(pk=sent[0]).delete()
    assert not DeliveryItem.objects.filter(paper_id=sent[0]).exists()
    ada.delete()
    assert not Delivery.objects.filter(subscriber_id=ada.pk).exists()
    assert not DeliveryItem.objects.filter(delivery__subscriber__email="ada@example.org").exists()
    assert DeliveryItem.objects.count() == len(sent) - 1  # bob's, less the deleted paper
    assert not DeliveryItem.objects.exclude(delivery_id__in=Delivery.objects.values("pk")).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_at_the_same_instant_create_and_queue_each_delivery_once(llm, papers) -> None:
    for n in range(30):
        SubscriberFactory(email=f"r{n}@example.org", topics=[llm])

    def run() -> dispatch.DispatchResult:
        return dispatch.digests_dispatch(now=PARIS_SEVEN)

    results = at_once(run, run)
    assert Delivery.objects.count() == 30
    queued = [pk for result in results for chunk in result.chunks for pk in chunk]
    assert sorted(queued) == sorted(Delivery.objects.values_list("pk", flat=True))


@pytest.mark.django_db(transaction=True)  # real commits: a chunk goes to the broker after its rows commit
def test_each_time_zone_group_is_committed_and_its_chunks_sent_before_the_next_is_written(
    llm, papers, monkeypatch, settings
) -> None:
    settings.DIGEST_CHUNK_SIZE = 2
    # Due at 06:00 UTC: London at 06:00 and Paris at 07:00 are two groups, London's first.
    for n in range(3):
        SubscriberFactory(email=f"london{n}@example.org", topics=[llm], timezone="Europe/London", send_hour=6)
        SubscriberFactory(email=f"paris{n}@example.org", topics=[llm], timezone="Europe/Paris", send_hour=7)
    sent: list[list[int]] = []
    written = dispatch.insert_from_select
    sent_before_second_group: list[list[int]] = []

    def database_lost_at_the_second_group(*args, **kwargs):
        if Delivery.objects.exists():
            sent_before_second_group.extend(sent)
            raise OperationalError("server closed the connection unexpectedly")
        return written(*args, **kwargs)

    monkeypatch.setattr(dispatch, "insert_from_select", database_lost_at_the_second_group)
    with pytest.raises(OperationalError):
        dispatch.digests_dispatch(now=PARIS_SEVEN, enqueue=sent.append)
    # London's digests were created, committed and handed to workers: the first chunk while
    # Paris was still to be written, the odd one left over when writing Paris failed.
    london = sorted(Delivery.objects.values_list("pk", flat=True))
    assert len(london) == 3 and sent_before_second_group == [london[:2]] and sent == [london[:2], london[2:]]

    monkeypatch.setattr(dispatch, "insert_from_select", written)
    sent.clear()
    again = dispatch.digests_dispatch(now=PARIS_SEVEN, enqueue=sent.append)
    # The next run creates Paris's and queues only those: each delivery is queued once.
    paris = sorted(Delivery.objects.filter(subscriber__timezone="Europe/Paris").values_list("pk", flat=True))
    assert again.created == 3 and sorted(pk for chunk in sent for pk in chunk) == paris
    assert [len(chunk) for chunk in sent] == [2, 1]


# --- what goes in, and what does not -------------------------------------------------------------------


def test_the_first_digest_covers_the_latest_announcement(llm, papers) -> None:
    SubscriberFactory(email="ada@example.org", topics=[llm])
    dispatch_and_send(PARIS_SEVEN)
    sent = set(DeliveryItem.objects.values_list("paper__arxiv_id", flat=True))
    assert sent == {"2611.00001", "2611.00002", "2611.00004"}  # cs.CL on DAY; not the older one
    assert Delivery.objects.get().papers_through == DAY


def test_nothing_matching_is_a_skipped_delivery_with_a_reason_and_no_email(papers) -> None:
    SubscriberFactory(email="ada@example.org", keywords=["quantum gravity"])
    dispatch_and_send(PARIS_SEVEN)
    delivery = Delivery.objects.get()
    assert delivery.state == Delivery.State.SKIPPED
    assert delivery.skip_reason == "no new papers matched your preferences"
    assert mail.outbox == []


def test_no_new_announcement_since_the_last_digest_is_skipped(llm, papers) -> None:
    SubscriberFactory(email="ada@example.org", topics=[llm])
    dispatch_and_send(PARIS_SEVEN)
    dispatch_and_send(PARIS_SEVEN + dt.timedelta(days=1))
    latest = Delivery.objects.order_by("-edition__date").first()
    assert latest.state == Delivery.State.SKIPPED
    assert latest.skip_reason == "no papers announced since the previous digest"
    assert len(mail.outbox) == 1


def test_the_next_day_brings_only_the_new_announcement(llm, papers) -> None:
    SubscriberFactory(email="ada@example.org", topics=[llm])
    dispatch_and_send(PARIS_SEVEN)
    PaperFactory(
        arxiv_id="2611.00010",
        title="Wednesday language news",
        categories=["cs.CL"],
        announced_on=DAY + dt.timedelta(days=1),
    )
    dispatch_and_send(PARIS_SEVEN + dt.timedelta(days=1))
    latest = Delivery.objects.order_by("-edition__date").first()
    assert list(latest.items.values_list("paper__arxiv_id", flat=True)) == ["2611.00010"]


def test_a_paper_is_never_sent_twice_to_the_same_subscriber(llm, papers) -> None:
    SubscriberFactory(email="ada@example.org", topics=[llm])
    dispatch_and_send(PARIS_SEVEN)
    # The same paper turns up as newly announced again (say, listed by Hugging Face later).
    papers[0].announced_on = DAY + dt.timedelta(days=1)
    papers[0].save()
    PaperFactory(
        arxiv_id="2611.00010",
        title="Wednesday language news",
        categories=["cs.CL"],
        announced_on=DAY + dt.timedelta(days=1),
    )
    dispatch_and_send(PARIS_SEVEN + dt.timedelta(days=1))
    assert DeliveryItem.objects.filter(paper=papers[0]).count() == 1


def test_hidden_papers_are_never_sent(llm, papers) -> None:
    papers[0].hidden = True
    papers[0].save()
    SubscriberFactory(email="ada@example.org", topics=[llm])
    dispatch_and_send(PARIS_SEVEN)
    assert not DeliveryItem.objects.filter(paper=papers[0]).exists()
    assert "Reasoning with verifiers" not in mail.outbox[0].body


def test_weekly_digests_cover_the_past_seven_days(llm, papers) -> None:
    SubscriberFactory(email="weekly@example.org", topics=[llm], cadence="weekly", send_weekday=2)  # Wednesday
    PaperFactory(
        arxiv_id="2611.00020",
        title="Last Thursday's language paper",
        categories=["cs.CL"],
        announced_on=DAY - dt.timedelta(days=5),
    )
    dispatch_and_send(PARIS_SEVEN)
    sent = set(DeliveryItem.objects.values_list("paper__arxiv_id", flat=True))
    assert "2611.00020" in sent and "2611.00006" not in sent  # eight days old is out


# --- stopping mail at once -----------------------------------------------------------------------------


def test_an_unsubscribe_after_dispatch_stops_the_queued_digest(llm, papers) -> None:
    subscriber = SubscriberFactory(email="ada@example.org", topics=[llm])
    result = dispatch.digests_dispatch(now=PARIS_SEVEN)
    Subscriber.objects.filter(pk=subscriber.pk).update(status="unsubscribed")
    sending.chunk_send(delivery_ids=result.chunks[0], now=PARIS_SEVEN)
    delivery = Delivery.objects.get()
    assert (
        delivery.state == Delivery.State.SUPPRESSED and delivery.skip_reason == "subscriber is unsubscribed"
    )
    assert mail.outbox == []


def test_a_suppressed_address_is_not_sent_even_if_the_row_says_active(llm, papers) -> None:
    SubscriberFactory(email="ada@example.org", topics=[llm])
    Suppression.objects.create(email_hash=email_hash("ada@example.org"), reason="hard_bounce")
    dispatch_and_send(PARIS_SEVEN)
    assert Delivery.objects.get().state == Delivery.State.SUPPRESSED
    assert mail.outbox == []


def test_the_final_guard_reads_the_status_just_before_sending(llm, papers, monkeypatch) -> None:
    subscriber = SubscriberFactory(email="ada@example.org", topics=[llm])
    original = emails.chunk_digests

    def build_then_unsubscribe(*args, **kwargs):
        messages = original(*args, **kwargs)
        Subscriber.objects.filter(pk=subscriber.pk).update(status="unsubscribed")  # a click meanwhile
        return messages

    monkeypatch.setattr(emails, "chunk_digests", build_then_unsubscribe)
    dispatch_and_send(PARIS_SEVEN)
    assert mail.outbox == []
    assert Delivery.objects.get().state == Delivery.State.SUPPRESSED


# --- bounded queries ----------------------------------------------------------------------------------


def _plan_queries(count: int, llm, django_assert_num_queries, expected: int) -> None:
    for n in range(count):
        SubscriberFactory(
            email=f"q{count}-{n}@example.org", topics=[llm], keywords=["reasoning"], authors=["Yann LeCun"]
        )
    result = dispatch.digests_dispatch(now=PARIS_SEVEN)
    ids = [pk for chunk in result.chunks for pk in chunk]
    with django_assert_num_queries(expected):
        deliveries = planning.deliveries_for_chunk(ids)
        plan = planning.chunk_plan(deliveries=deliveries)
        emails.chunk_digests(plan)
    assert len(plan.planned) == count


def test_building_a_chunk_takes_the_same_queries_for_one_or_fifty(
    llm, papers, django_assert_num_queries
) -> None:
    _plan_queries(1, llm, django_assert_num_queries, expected=12)
    Delivery.objects.all().delete()
    Subscriber.objects.all().delete()
    _plan_queries(50, llm, django_assert_num_queries, expected=12)


def test_recording_a_send_survives_a_dropped_database_connection(monkeypatch) -> None:
    from django.db import OperationalError

    monkeypatch.setattr(time, "sleep", lambda seconds: None)
    closed: list[bool] = []
    monkeypatch.setattr(
        sending, "connection", SimpleNamespace(in_atomic_block=False, close=lambda: closed.append(True))
    )
    calls: list[int] = []

    def write() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise OperationalError("terminating connection due to administrator command")
        return "recorded"

    assert sending._durably(write) == "recorded"
    assert len(calls) == 3 and len(closed) == 2


def test_a_write_that_keeps_failing_is_not_retried_forever(monkeypatch) -> None:
    from django.db import OperationalError

    monkeypatch.setattr(time, "sleep", lambda seconds: None)
    monkeypatch.setattr(sending, "connection", SimpleNamespace(in_atomic_block=False, close=lambda: None))

    def write() -> None:
        raise OperationalError("the database is gone")

    with pytest.raises(OperationalError):
        sending._durably(write)
