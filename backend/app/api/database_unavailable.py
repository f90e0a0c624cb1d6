"""Answer 503 with ``Retry-After`` when the database cannot be reached, and say so in OpenAPI.

A request that needs the database while PostgreSQL is down, restarting or unreachable fails
in SQLAlchemy with a connection error, after at most ``DATABASE_TIMEOUT_SECONDS`` (the engine
options of :func:`app.db.session.create_db_engine` bound every wait). One exception handler
turns those errors into ``503 {"detail": ...}`` with a ``Retry-After`` header, whichever route
or dependency met them (authentication, the route, or the commit of the unit of work: nothing is
acknowledged before its commit). Other database errors stay our own faults (500). The engine's
pool replaces the broken connections by itself once the database answers again.
"""

import logging
import math
import sqlite3
from typing import Any, Final

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from app.api.errors import unexpected_error_handler
from app.api.openapi_operations import ERROR_SCHEMA_REF, operations_where
from app.api.unit_of_work import uses_database
from app.core.config import Settings

logger = logging.getLogger(__name__)

DATABASE_UNAVAILABLE: Final = (
    "The database is unavailable right now; this request was not completed. Retry later."
)
RESPONSE_DESCRIPTION: Final = (
    "The database cannot be reached (answered within `DATABASE_TIMEOUT_SECONDS`); retry after "
    "the `Retry-After` header's seconds."
)


SQLITE_UNAVAILABLE: Final = (
    "database is locked",
    "database table is locked",
    "unable to open database file",
    "disk i/o error",
)
"""Beginnings of the SQLite errors that mean "busy or unreachable", not a wrong statement
(SQLite raises ``OperationalError`` for a missing column too)."""


def is_unavailable(error: BaseException) -> bool:
    """Whether ``error`` means the database cannot be reached (not a fault of ours).

    True for no pooled connection freed within the pool timeout, any DB-API error that
    invalidated its connection, a busy or unopenable SQLite file, and psycopg2's
    ``OperationalError`` (connection refused or lost, a statement cancelled by
    ``statement_timeout``, the server shutting down) and ``InterfaceError`` ("connection already
    closed").
    """
    if isinstance(error, PoolTimeoutError):
        return True
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    if isinstance(error.orig, sqlite3.Error):
        message = str(error.orig).lower()
        return isinstance(error.orig, sqlite3.OperationalError) and message.startswith(
            SQLITE_UNAVAILABLE
        )
    return isinstance(error, OperationalError | InterfaceError)


def retry_after_seconds(request: Request) -> int:
    """Seconds a client should wait: the configured database timeout, rounded up."""
    settings: Settings = request.app.state.settings
    return max(1, math.ceil(settings.DATABASE_TIMEOUT_SECONDS))


async def database_error_handler(request: Request, error: Exception) -> JSONResponse:
    """503 with ``Retry-After`` when the database is unreachable; else the plain JSON 500."""
    if not is_unavailable(error):
        return await unexpected_error_handler(request, error)
    logger.warning(
        "Database unavailable on %s %s: %s",
        request.method,
        request.url.path,
        " ".join(str(error).split())[:300],
    )
    return JSONResponse(
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        content={"detail": DATABASE_UNAVAILABLE},
        headers={"Retry-After": str(retry_after_seconds(request))},
    )


def install_database_error_handler(app: FastAPI) -> None:
    """Answer database connection failures with 503 (:func:`database_error_handler`)."""
    app.add_exception_handler(DBAPIError, database_error_handler)
    app.add_exception_handler(PoolTimeoutError, database_error_handler)


def _retry_after_header() -> dict[str, Any]:
    return {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer", "minimum": 1},
    }


def document_database_503(app: FastAPI, document: dict[str, Any]) -> None:
    """Add the database's 503 (with its ``Retry-After`` header) to every operation using it.

    Operations that already document a 503 (no model loaded) get the database reason added to
    its description.
    """
    for operation in operations_where(app, document, uses_database):
        responses = operation.setdefault("responses", {})
        existing = responses.get("503")
        if existing is None:
            responses["503"] = {
                "description": RESPONSE_DESCRIPTION,
                "content": {"application/json": {"schema": ERROR_SCHEMA_REF}},
                "headers": {"Retry-After": _retry_after_header()},
            }
        else:
            existing["description"] = f"{existing['description']} Or: {RESPONSE_DESCRIPTION}"
            existing.setdefault("headers", {})["Retry-After"] = _retry_after_header()
