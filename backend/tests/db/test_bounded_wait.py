"""A PostgreSQL that accepts connections but stops answering is an error within the bounds.

libpq's timeouts and keepalives never fire when the packets are acknowledged and nothing
answers (a frozen server, a hung proxy or pooler): requests hung for minutes. The wait is now
bounded on the client side (:mod:`app.db.bounded_wait`), after the server's own
``statement_timeout``, and the broken connection leaves the pool.
"""

import time

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from app.db.session import create_db_engine
from tests.conftest import POSTGRES_ADMIN_URL, create_postgres_database, drop_postgres_database
from tests.helpers.tcp_proxy import TcpProxy

TIMEOUT_SECONDS = 1.0
STATEMENT_TIMEOUT_SECONDS = 1.0
MARGIN_SECONDS = 6.0
"""What an answer may take beyond its bounds on a busy 2-core machine."""


@pytest.fixture
def proxied_url():
    url = create_postgres_database("bounded_wait")
    upstream = make_url(POSTGRES_ADMIN_URL)
    proxy = TcpProxy(upstream.host or "127.0.0.1", upstream.port or 5432)
    try:
        yield (
            proxy,
            make_url(url)
            .set(host="127.0.0.1", port=proxy.port)
            .render_as_string(hide_password=False),
        )
    finally:
        proxy.thaw()
        proxy.stop()
        drop_postgres_database(url)


def test_a_frozen_server_is_an_error_within_the_bounds_and_leaves_the_pool(proxied_url):
    proxy, url = proxied_url
    engine = create_db_engine(
        url, timeout_seconds=TIMEOUT_SECONDS, statement_timeout_seconds=STATEMENT_TIMEOUT_SECONDS
    )
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar() == 1
        proxy.freeze()
        started = time.monotonic()
        with pytest.raises(OperationalError, match="no answer within"), engine.connect() as c:
            c.execute(text("SELECT 1"))
        waited = time.monotonic() - started
        # A pooled connection's ping, then a new connection: each bounded.
        assert waited < 2 * (TIMEOUT_SECONDS + STATEMENT_TIMEOUT_SECONDS) + MARGIN_SECONDS
        proxy.thaw()
        with engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()


def test_a_slow_statement_is_still_cancelled_by_the_server_first(proxied_url):
    _, url = proxied_url
    engine = create_db_engine(
        url, timeout_seconds=TIMEOUT_SECONDS, statement_timeout_seconds=STATEMENT_TIMEOUT_SECONDS
    )
    try:
        with (
            pytest.raises(OperationalError, match="statement timeout"),
            engine.connect() as connection,
        ):
            connection.execute(text("SELECT pg_sleep(1.5)"))
        with engine.connect() as connection:  # the connection is fine: it stays pooled
            assert connection.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()
