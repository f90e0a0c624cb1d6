"""Bound every wait for PostgreSQL on the client side: a server that stops answering is an error.

libpq bounds a connection attempt (``connect_timeout``) and a network that drops packets
(``tcp_user_timeout``, keepalives), and the server cancels a long statement
(``statement_timeout``). None of them fires when the connection is up and acknowledged but
nothing answers: a frozen server, a hung proxy or pooler. psycopg2's wait callback
(``psycopg2.extensions.set_wait_callback``, the hook of its "green" mode, used here as in its
documentation's ``wait_select`` example) waits for each answer with ``select`` and a deadline
instead, then shuts the connection down and raises ``OperationalError``: SQLAlchemy drops such a
connection from its pool, and the API answers 503.
"""

import math
import os
import select
import socket
import threading
import time
from typing import Any, Final

import psycopg2
import psycopg2.extensions

_POLL_OK: Final = psycopg2.extensions.POLL_OK
_POLL_READ: Final = psycopg2.extensions.POLL_READ
_POLL_WRITE: Final = psycopg2.extensions.POLL_WRITE
_CONNECTED: Final = frozenset(
    {
        psycopg2.extensions.STATUS_READY,
        psycopg2.extensions.STATUS_BEGIN,
        psycopg2.extensions.STATUS_PREPARED,
    }
)
"""Statuses of an established connection (others: still connecting)."""

_lock = threading.Lock()
_bounds: tuple[float, float] = (math.inf, math.inf)
"""(connecting, waiting for an answer), in seconds: set by :func:`bound_postgres_waits`."""


def _wait(connection: Any) -> None:
    """Wait for ``connection``'s answer until the bound, as psycopg2's ``wait_select`` does."""
    connecting, answering = _bounds
    bound = answering if connection.status in _CONNECTED else connecting
    deadline = time.monotonic() + bound
    while True:
        state = connection.poll()
        if state == _POLL_OK:
            return
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            _shut_down(connection)
            raise psycopg2.OperationalError(  # a message SQLAlchemy takes for a disconnect
                f"could not receive data from server: no answer within {bound:g} s "
                "(the server or a proxy before it stopped answering)"
            )
        if state == _POLL_READ:
            select.select([connection.fileno()], [], [], remaining)
        elif state == _POLL_WRITE:
            select.select([], [connection.fileno()], [], remaining)
        else:  # pragma: no cover - psycopg2 returns only the states above
            raise psycopg2.OperationalError(f"unexpected state from poll(): {state}")


def _shut_down(connection: Any) -> None:
    """Shut the connection's socket down, so that closing it does not wait for the server.

    ``close()`` itself would block on the silent server; after a shutdown every read and write
    of the socket fails at once, and SQLAlchemy closes the connection it then drops.
    """
    with socket.socket(fileno=os.dup(connection.fileno())) as duplicate:
        duplicate.shutdown(socket.SHUT_RDWR)


def bound_postgres_waits(connect_seconds: float, answer_seconds: float) -> None:
    """Make every psycopg2 connection of this process give up on a server that is silent.

    Process-wide (psycopg2 has one wait callback): the last bounds set apply. In this mode
    libpq leaves ``connect_timeout`` to the caller, so connecting is bounded here too.

    Args:
        connect_seconds: The longest a connection attempt may take, in seconds.
        answer_seconds: The longest wait for one answer of an established connection (a
            statement's result), in seconds: longer than the server's ``statement_timeout``,
            which cancels a slow statement first.
    """
    global _bounds  # noqa: PLW0603 - psycopg2's callback is process-wide too
    with _lock:
        _bounds = (connect_seconds, answer_seconds)
        psycopg2.extensions.set_wait_callback(_wait)
