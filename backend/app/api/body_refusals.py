"""Publish the answers to a request the API cannot take before any route reads it.

They come from outside the routes (the server's protocol, the body-size middleware, FastAPI's
body parsing, the validation handler), so FastAPI does not document them: on every operation,
a request line or headers over the server's head limit (414, 431:
:mod:`app.http_protocol`); on every operation with a body, a body over its size limit (413),
one that cannot be parsed at all (400: a multipart body cut short, a JSON number of more than
4,300 digits) and, for a JSON body, one not sent as JSON or declared in a charset other than
UTF-8 (415: :mod:`app.api.input_boundary`); for a form body (the login), one not sent as a form
(415: :mod:`app.api.form_media_type`).
"""

from typing import Any, Final

from app.api.openapi_operations import add_error_response

TOO_LARGE: Final = "The body is over the API's size limit for this path."
UNPARSABLE: Final = (
    "The body cannot be parsed: a multipart body cut short, a JSON number of more than "
    "4,300 digits."
)
NOT_JSON: Final = (
    "The body was not sent as JSON (Content-Type: application/json), or its Content-Type "
    "declares a charset other than UTF-8."
)
NOT_FORM: Final = (
    "The body was not sent as a form (Content-Type: application/x-www-form-urlencoded), or its "
    "Content-Type declares a charset other than UTF-8."
)
URL_TOO_LONG: Final = "The request line (URL) is over the server's head limit."
HEADERS_TOO_LARGE: Final = "The request line and headers are over the server's head limit."


def document_head_refusals(document: dict[str, Any]) -> None:
    """Add the server's 414 and 431 to every operation of ``document``."""
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            add_error_response(operation, "414", URL_TOO_LONG)
            add_error_response(operation, "431", HEADERS_TOO_LARGE)


def document_body_refusals(document: dict[str, Any]) -> None:
    """Add 400 and 413 to every operation of ``document`` with a body, 415 to JSON and form ones."""
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            content = operation.get("requestBody", {}).get("content", {})
            if not content:
                continue
            add_error_response(operation, "400", UNPARSABLE)
            add_error_response(operation, "413", TOO_LARGE)
            if "application/json" in content:
                add_error_response(operation, "415", NOT_JSON)
            elif "application/x-www-form-urlencoded" in content:
                add_error_response(operation, "415", NOT_FORM)
