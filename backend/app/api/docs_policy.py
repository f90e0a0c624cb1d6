"""Keep the documentation pages (/docs, /redoc) on the API's own files.

Their JavaScript and CSS come from the API (fastapi-offline), but the ReDoc bundle still points
its footer logo at cdn.redoc.ly. A Content-Security-Policy on those pages makes the browser load
nothing from another host, so they behave the same with or without internet.
"""

from collections.abc import Collection
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DOCS_CONTENT_POLICY: Final = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'"
)
"""Only the API itself (Swagger UI's start-up script and ReDoc's styles are inline)."""


class DocsContentPolicy:
    """ASGI middleware adding :data:`DOCS_CONTENT_POLICY` to the answers of a few paths.

    Args:
        app: The application.
        paths: The pages to protect (e.g. ``/docs`` and ``/redoc``); other requests pass as they
            are, without any cost but a set lookup.
    """

    def __init__(self, app: ASGIApp, paths: Collection[str]) -> None:
        self.app = app
        self.paths = frozenset(paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add the header on the protected pages' response start."""
        if scope["type"] != "http" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return

        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"content-security-policy", DOCS_CONTENT_POLICY.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_policy)
