"""The API's error answers: 422 without the caller's data, and a plain 500 for our own faults.

FastAPI's own 422 handler answers each error with the ``input`` it refused: a whole uploaded
file read as text, a whole request body, or a lone surrogate that then cannot be encoded (so
the handler itself fails with a 500). :func:`validation_error_handler` answers the same
``{"detail": [{"loc", "msg", "type"}]}`` shape (the published ``HTTPValidationError``) with only
where the problem is and what it is: no ``input``, no ``ctx``, messages made printable and cut.
A JSON body sent as another media type is a 415 (:mod:`app.api.json_media_type`).
"""

import logging
from collections.abc import Sequence
from typing import Any, Final

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from app.api.json_media_type import body_not_sent_as_json, not_json_detail

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS: Final = 300
"""Longest ``msg`` of a 422 entry (longer ones are cut with an ellipsis)."""
MAX_LOCATION_CHARS: Final = 64
"""Longest element of a 422 ``loc`` (field names come from the request)."""


def _safe_text(value: str, limit: int) -> str:
    """Printable, encodable text of at most ``limit`` characters."""
    text = value.encode("utf-8", "replace").decode("utf-8")
    text = "".join(char if char.isprintable() else " " for char in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def safe_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Keep ``loc``, ``msg`` and ``type`` of validation errors, made safe to send back.

    Args:
        errors: Pydantic/FastAPI error dictionaries (``loc``, ``msg``, ``type``, ``input``...).

    Returns:
        One ``{"loc", "msg", "type"}`` per error, without the refused input.
    """
    safe = []
    for error in errors:
        location = [
            item if isinstance(item, int) else _safe_text(str(item), MAX_LOCATION_CHARS)
            for item in error.get("loc", ())
        ]
        safe.append(
            {
                "loc": location,
                "msg": _safe_text(str(error.get("msg", "")), MAX_MESSAGE_CHARS),
                "type": _safe_text(str(error.get("type", "value_error")), MAX_LOCATION_CHARS),
            }
        )
    return safe


def invalid_input(loc: Sequence[str | int], msg: str, error_type: str) -> RequestValidationError:
    """A 422 for a rule the schema cannot express (answered like FastAPI's own 422s).

    Args:
        loc: Where the refused value is, e.g. ``("query", "designation")``.
        msg: What is wrong, without the value itself.
        error_type: A stable machine-readable kind, e.g. ``string_too_long``.
    """
    return RequestValidationError([{"loc": tuple(loc), "msg": msg, "type": error_type}])


async def validation_error_handler(request: Request, error: Exception) -> JSONResponse:
    """Answer a 422 that says where and what, never with the caller's data.

    A JSON body sent without a JSON ``Content-Type`` is a 415 instead.
    """
    if isinstance(error, RequestValidationError) and body_not_sent_as_json(error):
        return JSONResponse(
            status_code=status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            content={"detail": not_json_detail(request.headers.get("content-type"))},
        )
    errors = error.errors() if isinstance(error, RequestValidationError) else []
    return JSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT, content={"detail": safe_errors(errors)}
    )


async def unexpected_error_handler(request: Request, error: Exception) -> JSONResponse:
    """Log an unexpected error with its stack trace and answer a plain JSON 500."""
    logger.error("Unexpected error on %s %s", request.method, request.url.path, exc_info=error)
    return JSONResponse(status_code=500, content={"detail": "Internal server error"})


def install_error_handlers(app: FastAPI) -> None:
    """Answer validation errors safely and unexpected errors with a JSON 500."""
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(Exception, unexpected_error_handler)
