"""Django's PostgreSQL backend, with a health check that costs no round trip when nothing is wrong.

With ``CONN_HEALTH_CHECKS`` Django asks the server ``SELECT 1`` before the
first query of each request on a kept connection: a round trip and a
transaction for every sign-up, as much time as the sign-up's own statement
under load. A kept connection whose server has gone away is not silent: the
server sends "terminating connection" before it closes the socket, and a
closed socket reads as end of stream. So the check looks at the socket
first, without a round trip, and asks the server only when something is
waiting to be read, or the connection is not idle.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg.pq import TransactionStatus


class DatabaseWrapper(base.DatabaseWrapper):
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
