"""The web page's files, mounted at ``/`` behind the API, without hiding the API's methods.

A mount at ``/`` matches every path, so a request whose path is an API route but whose method
is not (``DELETE /api/v1/users/5``, ``HEAD /api/v1/categories/``) would reach the page's static
files and be answered as a missing file (404) or with the files' ``Allow: GET, HEAD``. This
answers it as Starlette answers a route's wrong method: ``405`` with the methods the path does
take, and a JSON ``detail`` like every other error of the API.
"""

import re
from typing import Any

from fastapi.routing import iter_route_contexts
from starlette.responses import JSONResponse
from starlette.routing import compile_path
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

RoutePatterns = list[tuple[re.Pattern[str], frozenset[str]]]


def route_patterns(app: Any) -> RoutePatterns:
    """Each route's compiled path (with its convertors: ``{user_id:int}``) and its methods."""
    patterns: RoutePatterns = []
    for context in iter_route_contexts(app.routes):
        if context.methods and context.path is not None:
            pattern, _, _ = compile_path(context.path)
            patterns.append((pattern, frozenset(context.methods)))
    return patterns


def allowed_methods(patterns: RoutePatterns, path: str) -> set[str]:
    """The methods of the routes whose path matches ``path``."""
    methods: set[str] = set()
    for pattern, route_methods in patterns:
        if pattern.match(path):
            methods.update(route_methods)
    return methods


def _other_slash(path: str) -> str:
    return path.removesuffix("/") if path.endswith("/") else f"{path}/"


class FrontendFiles(StaticFiles):
    """:class:`~starlette.staticfiles.StaticFiles` that leaves the API's paths to the API.

    Args:
        api_prefix: Where the API lives (``/api/v1``): a path under it that no route takes is
            the API's JSON 404 (naming the path with or without its final slash when that one
            exists), never the page's files.
        **kwargs: :class:`~starlette.staticfiles.StaticFiles`'s.
    """

    def __init__(self, *, api_prefix: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.api_prefix = api_prefix.rstrip("/")
        self._patterns: RoutePatterns | None = None  # the app's routes, compiled at first use

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer an API path the API does not take; serve the page's files otherwise."""
        if scope["type"] == "http":
            response = self._api_answer(scope)
            if response is not None:
                await response(scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    def _api_answer(self, scope: Scope) -> JSONResponse | None:
        if self._patterns is None:
            self._patterns = route_patterns(scope["app"])
        path = scope["path"]
        methods = allowed_methods(self._patterns, path)
        if methods:
            return JSONResponse(
                {"detail": "Method Not Allowed"},
                status_code=405,
                headers={"Allow": ", ".join(sorted(methods))},
            )
        if path != self.api_prefix and not path.startswith(f"{self.api_prefix}/"):
            return None
        other = _other_slash(path)
        if allowed_methods(self._patterns, other):
            return JSONResponse({"detail": f"Not Found: the API's path is {other}"}, 404)
        return JSONResponse({"detail": "Not Found"}, status_code=404)
