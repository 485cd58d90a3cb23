"""Django's PostgreSQL backend as configured: a kept connection the server ended is replaced, not used."""

from __future__ import annotations

import select
import time
from collections.abc import Iterator

import pytest
from django.db import connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper

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


def test_a_connection_the_server_ended_is_replaced_before_the_request_uses_it(kept) -> None:
    db, asked = kept
    first = backend_pid(db)
    with connection.cursor() as cursor:  # an administrator, or a server restart
        cursor.execute("SELECT pg_terminate_backend(%s)", [first])
    wait_until_readable(db)  # the server's "terminating connection" message

    next_request(db)

    assert backend_pid(db) != first  # no error: a new connection answered
    assert asked == [False]
