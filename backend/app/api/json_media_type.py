"""A JSON body sent as another media type is a 415, not a puzzling 422.

FastAPI parses a body as JSON only when the request's ``Content-Type`` says it is JSON
(``application/json`` or ``application/*+json``; its ``strict_content_type`` default). Any other
body reaches validation as raw bytes and fails with "Input should be a valid dictionary": this
answers it as what it is, ``415 Unsupported Media Type``
(:mod:`app.api.body_refusals` publishes it).
"""

from typing import Final

from fastapi.exceptions import RequestValidationError

NOT_JSON: Final = (
    "The body must be JSON, sent with the header Content-Type: application/json; this "
    "request's Content-Type is {content_type}."
)


def body_not_sent_as_json(error: RequestValidationError) -> bool:
    """Whether validation failed on a body FastAPI left unparsed (not declared as JSON)."""
    return isinstance(error.body, bytes | bytearray)


def shown_content_type(content_type: str | None) -> str:
    """A request's ``Content-Type`` as a 415 names it: quoted, cut at 100 characters."""
    return repr(content_type[:100]) if content_type else "missing"


def not_json_detail(content_type: str | None) -> str:
    """The 415's ``detail``, naming the request's ``Content-Type`` (or its absence)."""
    return NOT_JSON.format(content_type=shown_content_type(content_type))
