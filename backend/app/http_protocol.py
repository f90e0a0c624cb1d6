"""The API's HTTP/1.1 protocol: uvicorn's httptools protocol, with the API's limits.

uvicorn's default protocol (httptools, the llhttp parser) is the fastest it has, but as it is:

- it cannot take a URL over 64 KiB: ``httptools.parse_url`` keeps offsets in 16 bits, and the
  API accepts ``designation`` and ``description`` of ``MAX_TEXT_LENGTH`` characters each in the
  query string (11,000 accented characters are 66 KB percent-encoded);
- it reads a request head of any size into memory;
- what it cannot parse is answered in plain text (``Invalid HTTP request received.``).

:class:`ApiHttpToolsProtocol` splits a long request target itself, refuses a request line or
headers over :attr:`~app.core.config.Settings.max_request_head_bytes` (414, 431) and answers
every refusal in JSON, ``{"detail": ...}``, like every other error of the API. (uvicorn's h11
protocol can do the same with ``h11_max_incomplete_event_size``; httptools took about 0.13 ms
less per request: README, "Serving performance".)
"""

import asyncio
import json
from http import HTTPStatus
from typing import Any, Final

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from app.core.config import get_settings

PARSE_URL_LIMIT: Final = 0xFFFF
"""Longest URL ``httptools.parse_url`` takes (its offsets and lengths are 16-bit)."""


class HeadTooLargeError(Exception):
    """The request line or the headers went over the limit."""


def json_error(status: HTTPStatus, detail: str) -> bytes:
    """A whole HTTP/1.1 response closing the connection, with body ``{"detail": detail}``."""
    body = json.dumps({"detail": detail}).encode()
    head = (
        f"HTTP/1.1 {status.value} {status.phrase}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class ApiHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a head limit, long URLs and JSON errors."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.head_limit = get_settings().max_request_head_bytes
        self._head_bytes = 0
        self._refused: HTTPStatus | None = None
        """414 or 431 once the request's head went over the limit."""

    def on_message_begin(self) -> None:
        """Start counting the new request's head."""
        super().on_message_begin()
        self._head_bytes, self._refused = 0, None

    def _count(self, size: int, status: HTTPStatus) -> None:
        self._head_bytes += size
        if self._head_bytes > self.head_limit:
            self._refuse(status)

    def _refuse(self, status: HTTPStatus) -> None:
        # httptools stops parsing on a callback's exception; uvicorn calls send_400_response.
        self._refused = status
        raise HeadTooLargeError(status)

    def on_url(self, url: bytes) -> None:
        """Collect a piece of the request target (414 past the head limit)."""
        self._count(len(url), HTTPStatus.REQUEST_URI_TOO_LONG)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        """Collect a header (431 past the head limit; ``": "`` and CRLF count too)."""
        self._count(len(name) + len(value) + 4, HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        """Start the request; a target over 64 KiB is split at its ``?`` here.

        Borrowed from uvicorn's ``HttpToolsProtocol.on_headers_complete``, which parses the
        target with ``httptools.parse_url``: a long target is parsed without its query string,
        which is then set as it came (a fragment, which clients do not send, is dropped).
        """
        url = self.url
        if len(url) <= PARSE_URL_LIMIT:
            super().on_headers_complete()
            return
        path, _, query = url.partition(b"#")[0].partition(b"?")
        if len(path) > PARSE_URL_LIMIT:
            self._refuse(HTTPStatus.REQUEST_URI_TOO_LONG)
        self.url = path
        try:
            super().on_headers_complete()  # the request's task starts at the loop's next turn
        finally:
            self.url = url
        self.scope["query_string"] = query

    def send_400_response(self, msg: str) -> None:
        """Answer what the parser refused: 414/431 for a head over the limit, else 400."""
        del msg
        if self._refused is not None:
            part = (
                "line (URL)"
                if self._refused == HTTPStatus.REQUEST_URI_TOO_LONG
                else "line and headers"
            )
            response = json_error(
                self._refused,
                f"Request {part} too long: more than {self.head_limit} bytes, the most this "
                "server reads. Send long texts in the body of POST /predict/ (JSON or form "
                "fields).",
            )
        else:
            response = json_error(
                HTTPStatus.BAD_REQUEST,
                "Invalid HTTP request: the request line or headers cannot be parsed.",
            )
        self.transport.write(response)
        self.transport.close()
