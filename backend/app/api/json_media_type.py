"""A JSON body sent as another media type is a 415, not a puzzling 422.

FastAPI parses a body as JSON only when the request's ``Content-Type`` says it is JSON
(``application/json`` or ``application/*+json``; its ``strict_content_type`` default). Any other
body reaches validation as raw bytes and fails with "Input should be a valid dictionary": this
answers it as what it is, ``415 Unsupported Media Type``, and publishes that answer on every
operation that takes a JSON body.
"""

from typing import Any, Final

from fastapi.exceptions import RequestValidationError

from app.api.openapi_operations import ERROR_SCHEMA_REF

NOT_JSON: Final = (
    "The body must be JSON, sent with the header Content-Type: application/json; this "
    "request's Content-Type is {content_type}."
)


def body_not_sent_as_json(error: RequestValidationError) -> bool:
    """Whether validation failed on a body FastAPI left unparsed (not declared as JSON)."""
    return isinstance(error.body, bytes | bytearray)


def not_json_detail(content_type: str | None) -> str:
    """The 415's ``detail``, naming the request's ``Content-Type`` (or its absence)."""
    shown = repr(content_type[:100]) if content_type else "missing"
    return NOT_JSON.format(content_type=shown)


def document_json_media_type(document: dict[str, Any]) -> None:
    """Add the 415 to every operation of ``document`` whose request body is JSON."""
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                operation.setdefault("responses", {}).setdefault(
                    "415",
                    {
                        "description": "The body was not sent as JSON "
                        "(Content-Type: application/json).",
                        "content": {"application/json": {"schema": ERROR_SCHEMA_REF}},
                    },
                )
