"""The PostgreSQL backend: a health check free when the server is quiet, and prepared hot statements.

A kept connection is checked at the start of each request. Asking the server
(``SELECT 1``) every time cost a round trip per sign-up; the socket tells
without one whether the server has closed or said anything since.

Django sends every statement as new text, parsed and planned each time;
``prepared_cursor()`` prepares a hot statement once per connection instead.
"""

from __future__ import annotations

import select
import time
from collections.abc import Iterator

import pytest
from django.db import DataError, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from subscribers import services
from subscribers.services import Preferences, RequestInfo

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def kept() -> Iterator[tuple[BaseDatabaseWrapper, list[bool]]]:
    """A second connection, as a web worker keeps one between requests, and a record of its server checks."""
    db = connections.create_connection("default")
    db.settings_dict = {**db.settings_dict, "CONN_MAX_AGE": 600}  # the tests' own settings keep none
    asked: list[bool] = []
    ask_server = db.is_usable

    def is_usable() -> bool:
        answer = ask_server()
        asked.append(answer)
        return answer

    db.is_usable = is_usable  # type: ignore[method-assign]
    try:
        yield db, asked
    finally:
        db.close()


def backend_pid(db: BaseDatabaseWrapper) -> int:
    with db.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def next_request(db: BaseDatabaseWrapper) -> None:
    """What Django does when a request starts: the kept connection will be checked before it is used."""
    db.close_if_unusable_or_obsolete()


def wait_until_readable(db: BaseDatabaseWrapper) -> None:
    deadline = time.monotonic() + 10
    while not select.select([db.connection.fileno()], [], [], 0.05)[0]:
        assert time.monotonic() < deadline, "the server sent nothing"


def test_a_quiet_kept_connection_is_reused_without_asking_the_server(kept) -> None:
    db, asked = kept
    first = backend_pid(db)
    for _ in range(3):
        next_request(db)
        assert backend_pid(db) == first
    assert asked == []


def test_a_connection_the_server_ended_is_replaced_before_the_request_uses_it(kept) -> None:
    db, asked = kept
    first = backend_pid(db)
    with connection.cursor() as cursor:  # an administrator, or a server restart
        cursor.execute("SELECT pg_terminate_backend(%s)", [first])
    wait_until_readable(db)  # the server's "terminating connection" message

    next_request(db)

    assert backend_pid(db) != first  # no error: a new connection answered
    assert asked == [False]


def test_a_message_from_a_live_server_costs_one_question_and_keeps_the_connection(kept) -> None:
    db, asked = kept
    first = backend_pid(db)
    with db.cursor() as cursor:
        cursor.execute("LISTEN papermail_health_check")
    with connection.cursor() as cursor:
        cursor.execute("NOTIFY papermail_health_check")
        cursor.execute("COMMIT")  # notifications go out at commit
    wait_until_readable(db)

    next_request(db)

    assert backend_pid(db) == first
    assert asked == [True]


def prepared(db: BaseDatabaseWrapper) -> list[tuple[str, int]]:
    """The statements this connection's server session holds prepared, with how often each ran."""
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements ORDER BY statement"
        )
        return cursor.fetchall()


def sign_up(email: str) -> None:
    services.subscription_request(
        email=email, preferences=Preferences(topics=["llm"]), request=RequestInfo(ip="203.0.113.7")
    )


def test_the_sign_up_statement_is_prepared_once_per_connection_and_run_from_then_on() -> None:
    with CaptureQueriesContext(connection) as queries:
        for n in range(3):
            sign_up(f"reader{n}@example.org")

    [(statement, runs)] = prepared(connection)
    assert statement.startswith("WITH r0 AS (INSERT INTO") and runs == 3
    # Still counted and logged like any other statement.
    assert sum(q["sql"].startswith("WITH r0 AS") for q in queries) == 3


@pytest.fixture
def unprepared() -> Iterator[BaseDatabaseWrapper]:
    """A connection as DATABASE_PREPARED_STATEMENTS=0 makes it, for a pooler that cannot keep them."""
    db = connections.create_connection("default")
    db.settings_dict = {
        **db.settings_dict,
        "OPTIONS": {**db.settings_dict["OPTIONS"], "prepare_threshold": None},
    }
    try:
        yield db
    finally:
        db.close()


def test_with_prepared_statements_switched_off_the_prepared_cursor_prepares_nothing(unprepared) -> None:
    for _ in range(3):
        with unprepared.prepared_cursor() as cursor:
            cursor.execute("SELECT %s::int + 1", [41])
            assert cursor.fetchone() == (42,)
    assert prepared(unprepared) == []


def test_the_prepared_cursor_raises_djangos_errors() -> None:
    with pytest.raises(DataError), connection.prepared_cursor() as cursor:
        cursor.execute("SELECT %s::int / 0", [1])


@override_settings(USE_TZ=False, TIME_ZONE="Asia/Tokyo")
def test_the_prepared_cursor_reads_times_as_djangos_cursor_does() -> None:
    statement = "SELECT TIMESTAMPTZ '2026-11-29 12:00:00+01'"
    with connection.cursor() as plain, connection.prepared_cursor() as prepared_cursor:
        plain.execute(statement)
        prepared_cursor.execute(statement)
        assert prepared_cursor.fetchone() == plain.fetchone()
