"""A login sent as JSON (or as anything but a form) is a 415 that says to send a form.

The OAuth2 password grant is a URL-encoded form (RFC 6749, section 4.3.2). FastAPI reads a
form route's body as a form whatever its ``Content-Type``, so a JSON login was a 422 "Field
required" for every field, which did not say what was wrong. A ``multipart/form-data`` body
is a form too, and still read (as FastAPI reads it).
"""

from typing import Final

from fastapi import HTTPException, Request, status

from app.api.json_media_type import shown_content_type

FORM_MEDIA_TYPES: Final = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
NOT_FORM: Final = (
    "The body must be a form, sent with the header Content-Type: "
    "application/x-www-form-urlencoded; this request's Content-Type is {content_type}."
)


def _has_body(request: Request) -> bool:
    """Whether the request sends a body: chunked, or a ``Content-Length`` above zero."""
    length = request.headers.get("content-length", "0")
    return "transfer-encoding" in request.headers or not length.isdigit() or int(length) > 0


async def require_form_body(request: Request) -> None:
    """Refuse a body whose ``Content-Type`` is not a form's (a route dependency).

    A request without a body is left to the form's validation (422: the fields are missing).

    Raises:
        HTTPException: 415 naming the request's ``Content-Type`` (or its absence).
    """
    content_type = request.headers.get("content-type")
    if content_type is None and not _has_body(request):
        return
    media_type = (content_type or "").partition(";")[0].strip().lower()
    if media_type not in FORM_MEDIA_TYPES:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            detail=NOT_FORM.format(content_type=shown_content_type(content_type)),
        )
