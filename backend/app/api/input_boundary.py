r"""The API's input boundary: refuse bad text and broken uploads before any route sees them.

One ASGI middleware applies :mod:`app.api.text_rules` to everything a request carries as text:
the path (path parameters), the query string, and the body, as it arrives, whatever its type:

- JSON (``application/json``, ``*/*+json`` or no ``Content-Type``, as FastAPI reads it): UTF-8,
  no NUL, no ``\u0000`` escape, no lone surrogate escape, no key twice in one object. JSON is
  UTF-8 (RFC 8259, section 8.1): a ``charset`` parameter naming another encoding is a 415, and
  a UTF-16 or UTF-32 body (byte-order mark, or the NUL bytes of its first character) is a 422
  saying so, not one about NUL characters;
- ``application/x-www-form-urlencoded`` (the login form): like a query string;
- ``multipart/form-data``: every part name and file name, and the value of every part that is
  not a file, must be UTF-8 without NUL, and no part name may come twice. A file part named
  only with ``filename*`` (which RFC 7578 forbids in forms) is refused, since frameworks would
  read its bytes as text; and a body that ends before its closing boundary, or that is not
  multipart at all, is a 400: a truncated upload never becomes a prediction made without its
  image.

Text problems answer 422 with FastAPI's ``detail`` list (``loc``, ``msg``, ``type``, never the
value); broken multipart bodies answer 400 with a sentence. A problem in the body is raised
while the application reads it (as :class:`~app.api.body_limit.BodySizeLimitMiddleware` does
for a body over its limit), so the route never runs.
"""

from typing import Any, Final, Protocol

from fastapi import HTTPException, status
from python_multipart.exceptions import FormParserError, MultipartParseError
from python_multipart.multipart import MultipartParser, MultipartState, parse_options_header
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.text_rules import (
    JSON_MUST_BE_UTF8,
    NOT_UTF8_MESSAGE,
    NUL_MESSAGE,
    NUL_TYPE,
    TextProblem,
    Utf8Stream,
    bytes_problem,
    display_name,
    is_utf8_charset,
    json_escape_problem,
    locate_json_problem,
    path_problem,
    repeated_key_problem,
    repeated_problem,
    urlencoded_problem,
    wide_unicode_problem,
)

TRUNCATED_MULTIPART: Final = (
    "Malformed multipart body: it ends before its closing boundary, so the upload is "
    "incomplete. Send the whole body (the last line is --BOUNDARY--)."
)
FILENAME_STAR_ONLY: Final = (
    "This file part names its file only with filename*, which multipart/form-data does not "
    'allow (RFC 7578, section 4.2): send filename="product.jpg".'
)


def _refuse(problem: TextProblem) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=[problem.as_error()])


def _malformed(reason: str) -> HTTPException:
    return HTTPException(status.HTTP_400_BAD_REQUEST, detail=f"Malformed multipart body: {reason}")


class _BodyInspector(Protocol):
    """Checks a request body chunk by chunk; raises the HTTP error to answer."""

    def feed(self, chunk: bytes, *, final: bool) -> None:
        """Inspect one chunk (``final``: the last one).

        Raises:
            HTTPException: 422 for refused text, 400 for a malformed body.
        """


class _JsonInspector:
    """A JSON body: UTF-8 as it arrives; NUL and surrogate escapes once it is complete."""

    def __init__(self) -> None:
        self._utf8 = Utf8Stream()
        self._chunks: list[bytes] = []

    def feed(self, chunk: bytes, *, final: bool) -> None:
        """Inspect one chunk of the JSON text."""
        self._chunks.append(chunk)
        self._utf8.feed(chunk, final=final)
        if self._utf8.problem is None and not final:
            return
        body = b"".join(self._chunks)
        if self._utf8.problem is not None:  # NUL or invalid UTF-8: UTF-16 or UTF-32, maybe
            wide = wide_unicode_problem(body)
            if wide is not None:
                raise _refuse(wide)
        kind = self._utf8.problem or json_escape_problem(body)
        if kind is not None:
            raise _refuse(locate_json_problem(body, kind))
        problem = repeated_key_problem(body)
        if problem is not None:
            raise _refuse(problem)


FORM_MUST_BE_UTF8: Final = "A form's values are read as UTF-8"


class _CharsetInspector:
    """A body declared in a charset other than UTF-8: a 415 once the body is read.

    Args:
        charset: The declared charset.
        rule: The first words of the refusal (:data:`JSON_MUST_BE_UTF8`...).
    """

    def __init__(self, charset: bytes, rule: str) -> None:
        self._charset = display_name(charset)
        self._rule = rule

    def feed(self, chunk: bytes, *, final: bool) -> None:
        """Refuse the body, whatever it holds.

        Raises:
            HTTPException: 415 naming the declared charset.
        """
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            detail=f"{self._rule}: this request's Content-Type declares the charset "
            f"{self._charset!r}. Send the body encoded in UTF-8, with charset=utf-8 or no "
            "charset.",
        )


class _UrlencodedInspector:
    """An ``application/x-www-form-urlencoded`` body, checked like a query string."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def feed(self, chunk: bytes, *, final: bool) -> None:
        """Inspect one chunk of the form."""
        self._chunks.append(chunk)
        if final:
            problem = urlencoded_problem(b"".join(self._chunks), "body")
            if problem is not None:
                raise _refuse(problem)


class _RefusedError(Exception):
    """Raised from a multipart callback to stop parsing with an HTTP error."""

    def __init__(self, error: HTTPException) -> None:
        super().__init__(error.detail)
        self.error = error


class _MultipartInspector:
    """A ``multipart/form-data`` body, parsed as it streams (python-multipart, as Starlette)."""

    def __init__(self, boundary: bytes) -> None:
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._disposition = b""
        self._field: str | None = None
        self._value: Utf8Stream | None = None  # the text of a part that is not a file
        self._names: set[bytes] = set()
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._on_part_begin,
                "on_header_field": self._on_header_field,
                "on_header_value": self._on_header_value,
                "on_header_end": self._on_header_end,
                "on_headers_finished": self._on_headers_finished,
                "on_part_data": self._on_part_data,
                "on_part_end": self._on_part_end,
            },
        )

    def _on_part_begin(self) -> None:
        self._disposition = b""
        self._field = None
        self._value = None

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _on_header_end(self) -> None:
        if bytes(self._header_name).lower() == b"content-disposition":
            self._disposition = bytes(self._header_value)
        self._header_name.clear()
        self._header_value.clear()

    def _on_headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        name = options.get(b"name", b"")
        self._field = display_name(name)
        for raw, subject in ((name, "A part name"), (options.get(b"filename"), "A file name")):
            problem = bytes_problem(raw, ("body", self._field), subject) if raw else None
            if problem is not None:
                raise _RefusedError(_refuse(problem))
        problem = repeated_problem(name, self._names, ("body", self._field))
        if problem is not None:
            raise _RefusedError(_refuse(problem))
        if b"filename" in options:
            return
        if b"filename*" in self._disposition.lower():
            problem = TextProblem(("body", self._field), FILENAME_STAR_ONLY, "filename_star_only")
            raise _RefusedError(_refuse(problem))
        self._value = Utf8Stream()

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._value is not None and not self._value.feed(data[start:end]):
            self._refuse_value()

    def _on_part_end(self) -> None:
        if self._value is not None and not self._value.feed(b"", final=True):
            self._refuse_value()

    def _refuse_value(self) -> None:
        assert self._value is not None
        message = NUL_MESSAGE if self._value.problem == NUL_TYPE else NOT_UTF8_MESSAGE
        # A part without a file name is a text field: bytes here are most often a file sent
        # without its filename="..." (an image part, say).
        problem = TextProblem(
            ("body", self._field or ""),
            f'The value {message}. A file goes in a file part, with filename="...".',
            self._value.problem or "",
        )
        raise _RefusedError(_refuse(problem))

    def feed(self, chunk: bytes, *, final: bool) -> None:
        """Parse one chunk; at the end, require the closing boundary."""
        try:
            self._parser.write(chunk)
        except _RefusedError as refused:
            raise refused.error from None
        except MultipartParseError as error:
            raise _malformed(str(error)) from None
        if final and self._parser.state != MultipartState.END:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=TRUNCATED_MULTIPART)


def _inspector_for(headers: Headers) -> _BodyInspector | None:
    """The inspector for a body of this ``Content-Type`` (``None``: not text we read)."""
    content_type = headers.get("content-type")
    if not content_type:
        return _JsonInspector()  # FastAPI reads a body without Content-Type as JSON
    media_type, options = parse_options_header(content_type)
    is_json = media_type == b"application/json" or media_type.endswith(b"+json")
    is_form = media_type == b"application/x-www-form-urlencoded"
    charset = options.get(b"charset")
    if (is_json or is_form) and charset is not None and not is_utf8_charset(charset):
        return _CharsetInspector(charset, JSON_MUST_BE_UTF8 if is_json else FORM_MUST_BE_UTF8)
    if is_json:
        return _JsonInspector()
    if is_form:
        return _UrlencodedInspector()
    if media_type == b"multipart/form-data" and options.get(b"boundary"):
        return _MultipartInspector(options[b"boundary"])
    return None  # binary or unknown types: the routes refuse them (or never read them)


VALIDATION_ERROR_REF: Final = {"$ref": "#/components/schemas/HTTPValidationError"}
TEXT_REFUSED: Final = (
    "Text that is not valid UTF-8 or holds NUL, in the path, the query string or the body "
    "(a UTF-16 or UTF-32 JSON body included)."
)


def document_text_refusals(document: dict[str, Any]) -> None:
    """Publish the 422 this middleware gives on every operation (even one taking no input).

    Args:
        document: The OpenAPI document, edited in place.
    """
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            operation.setdefault("responses", {}).setdefault(
                "422",
                {
                    "description": TEXT_REFUSED,
                    "content": {"application/json": {"schema": VALIDATION_ERROR_REF}},
                },
            )


def _target_problem(scope: Scope) -> TextProblem | None:
    raw_path = scope.get("raw_path")
    problem = path_problem(raw_path) if raw_path else None
    if problem is None and "\x00" in scope["path"]:
        problem = path_problem(b"%00")
    return problem or urlencoded_problem(scope.get("query_string", b""), "query")


class InputBoundaryMiddleware:
    """ASGI middleware refusing bad text (422) and malformed multipart bodies (400)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the request target at once and its body as the application reads it."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = _target_problem(scope)
        if problem is not None:
            response = JSONResponse(
                {"detail": [problem.as_error()]},
                status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            )
            await response(scope, receive, send)
            return
        try:
            inspector = _inspector_for(Headers(scope=scope))
        except FormParserError as error:  # a boundary the parser refuses (over 256 bytes)
            response = JSONResponse(
                {"detail": _malformed(str(error)).detail}, status.HTTP_400_BAD_REQUEST
            )
            await response(scope, receive, send)
            return
        if inspector is None:
            await self.app(scope, receive, send)
            return
        await self.app(scope, _inspecting(receive, inspector), send)


def _inspecting(receive: Receive, inspector: _BodyInspector) -> Receive:
    async def inspected_receive() -> Message:
        message = await receive()
        if message["type"] == "http.request":
            inspector.feed(message.get("body", b""), final=not message.get("more_body", False))
        return message

    return inspected_receive
