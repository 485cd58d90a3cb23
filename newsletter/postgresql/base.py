"""Django's PostgreSQL backend, with a health check that costs no round trip when nothing is wrong,
and a cursor for the few hot statements worth preparing on the server.

With ``CONN_HEALTH_CHECKS`` Django asks the server ``SELECT 1`` before the
first query of each request on a kept connection: a round trip and a
transaction for every sign-up, as much time as the sign-up's own statement
under load. A kept connection whose server has gone away is not silent: the
server sends "terminating connection" before it closes the socket, and a
closed socket reads as end of stream. So the check looks at the socket
first, without a round trip, and asks the server only when something is
waiting to be read, or the connection is not idle.

Django binds parameters in the client: each statement reaches the server as
new text, to be parsed and planned again. For a hot statement that is most of
its cost (the sign-up's: 0.78-0.87 ms a run in pgbench, 0.28-0.30 ms
prepared). ``prepared_cursor()`` binds on the server and prepares its
statements once per connection, when the connection allows prepared
statements (``OPTIONS["prepare_threshold"]`` not None; settings.py has the
switch, for poolers that cannot keep them).
"""

from __future__ import annotations

import select
from typing import Any

from django.db.backends.postgresql import base, operations
from django.db.backends.postgresql.psycopg_any import register_tzloader
from django.db.backends.utils import CursorWrapper
from django.utils.asyncio import async_unsafe
from psycopg import errors
from psycopg.pq import Format, TransactionStatus


class PreparingCursor(base.ServerBindingCursor):
    """Binds parameters on the server and asks for every statement to be prepared."""

    def execute(self, query: Any, params: Any = None, *, prepare: bool | None = True, **kwargs: Any) -> Any:
        # psycopg prepares nothing on a connection whose prepare_threshold is None.
        return super().execute(query, params, prepare=prepare, **kwargs)


class DatabaseOperations(operations.DatabaseOperations):
    def last_executed_query(self, cursor: Any, sql: str, params: Any) -> str | None:
        if isinstance(cursor, PreparingCursor):
            # Bound on the server, the statement has no text with its values: compose one, as
            # Django does for server-side binding, for query logs and CaptureQueriesContext.
            try:
                return self.compose_sql(sql, params)
            except errors.DataError:
                return None
        return super().last_executed_query(cursor, sql, params)


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    @async_unsafe
    def prepared_cursor(self) -> CursorWrapper:
        """A cursor, as ``cursor()`` gives, whose statements are prepared on the server once per connection.

        For statements whose text does not change between runs: each distinct
        text holds a prepared statement on the server (psycopg keeps at most
        100 per connection).
        """
        self.close_if_health_check_failed()
        self.ensure_connection()
        with self.wrap_database_errors:
            cursor = PreparingCursor(self.connection)
            # As create_cursor() does: timestamps read in the connection's time zone.
            loader = self.connection.adapters.get_loader(base.TIMESTAMPTZ_OID, Format.TEXT)
            if loader.timezone != self.timezone:
                register_tzloader(self.timezone, cursor)
            return self._prepare_cursor(cursor)

    def close_if_health_check_failed(self) -> None:
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and not self.pool
            and self._quiet_and_idle()
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def _quiet_and_idle(self) -> bool:
        """True if the connection is idle and the server has sent nothing since its last answer."""
        connection = self.connection
        if connection.closed or connection.info.transaction_status != TransactionStatus.IDLE:
            return False
        poller = select.poll()
        poller.register(connection.fileno(), select.POLLIN | select.POLLPRI)
        return not poller.poll(0)  # a message, an error, a hang-up: ask the server
