"""Engine and session factory of the application database (PostgreSQL or SQLite)."""

import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from app.db.bounded_wait import bound_postgres_waits

SQLITE_BUSY_TIMEOUT_SECONDS = 30


def _enable_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # Foreign keys are off by default in SQLite; WAL lets readers work while a writer commits.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def postgres_connect_args(
    timeout_seconds: float, statement_timeout_seconds: float | None
) -> dict[str, Any]:
    """The libpq options that bound every wait on an unreachable or silent PostgreSQL.

    - ``connect_timeout``: a new connection gives up after ``timeout_seconds`` (libpq counts
      whole seconds, at least 2);
    - ``tcp_user_timeout`` and TCP keepalives: a connection whose server vanished (no answer,
      not even a reset) is declared dead after about ``timeout_seconds`` plus two probes,
      instead of the operating system's default of minutes;
    - ``statement_timeout`` (server side): a statement is cancelled after that many seconds.

    Args:
        timeout_seconds: Bound of a connection attempt and of a silent network, in seconds.
        statement_timeout_seconds: Longest statement, in seconds (``None``: no limit).

    Returns:
        Keyword arguments for ``psycopg2.connect`` (SQLAlchemy's ``connect_args``).
    """
    whole_seconds = max(2, math.ceil(timeout_seconds))
    args: dict[str, Any] = {
        "connect_timeout": whole_seconds,
        "tcp_user_timeout": int(timeout_seconds * 1000),
        "keepalives": 1,
        "keepalives_idle": whole_seconds,
        "keepalives_interval": 1,
        "keepalives_count": 2,
    }
    if statement_timeout_seconds is not None:
        args["options"] = f"-c statement_timeout={int(statement_timeout_seconds * 1000)}"
    return args


def create_db_engine(
    url: str,
    *,
    timeout_seconds: float | None = None,
    statement_timeout_seconds: float | None = None,
) -> Engine:
    """Create the engine for ``url``, creating the folder of a SQLite file if needed.

    Args:
        url: SQLAlchemy URL (``sqlite:///...`` or ``postgresql+psycopg2://...``).
        timeout_seconds: For PostgreSQL, the most a request waits for a connection: to
            connect, for a free pooled connection, or on a silent network
            (:func:`postgres_connect_args`). ``None``: libpq's and SQLAlchemy's defaults.
        statement_timeout_seconds: For PostgreSQL, the longest statement (``None``: no limit).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False}
        )
        event.listen(engine, "connect", _enable_sqlite_pragmas)
        return engine
    if timeout_seconds is None:
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    # An answer that never comes (a frozen server or proxy) is bounded too, after the server's
    # own statement_timeout had its chance.
    bound_postgres_waits(
        connect_seconds=max(2, math.ceil(timeout_seconds)),
        answer_seconds=timeout_seconds + (statement_timeout_seconds or 0),
    )
    # pool_pre_ping: a connection broken while it sat in the pool (the server restarted, a
    # proxy cut it) is replaced before use instead of failing the request.
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        pool_timeout=timeout_seconds,
        connect_args=postgres_connect_args(timeout_seconds, statement_timeout_seconds),
    )


_WROTE: Final = "wrote"


def _remember_write(session: Session, _flush_context: Any) -> None:
    session.info[_WROTE] = True


def mark_written(session: Session) -> None:
    """Record that ``session`` wrote through its connection (a Core statement, not a flush).

    Its unit of work then commits (:func:`has_writes`).
    """
    session.info[_WROTE] = True


def has_writes(session: Session) -> bool:
    """Whether the session flushed or holds changes that a commit would write."""
    return bool(session.info.get(_WROTE) or session.new or session.dirty or session.deleted)


def create_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return the session factory bound to ``engine`` (objects stay usable after commit).

    Sessions remember whether they flushed (:func:`has_writes`), so a unit of work that only
    read does not pay for a commit.
    """
    factory = sessionmaker(bind=engine, autoflush=False, expire_on_commit=False)
    event.listen(factory, "after_flush", _remember_write)
    return factory


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Open a session, commit when the block succeeds, roll back when it raises."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
