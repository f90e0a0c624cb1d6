"""The web page's files, mounted at ``/`` behind the API, without hiding the API's methods.

A mount at ``/`` matches every path, so a request whose path is an API route but whose method
is not (``DELETE /api/v1/users/5``, ``HEAD /api/v1/categories/``) would reach the page's static
files and be answered as a missing file (404) or with the files' ``Allow: GET, HEAD``. This
answers it as Starlette answers a route's wrong method: ``405`` with the methods the path does
take, and a JSON ``detail`` like every other error of the API.
"""

from fastapi.routing import iter_route_contexts
from starlette.responses import JSONResponse
from starlette.routing import compile_path
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send


def allowed_methods(scope: Scope) -> set[str]:
    """The methods of the application's routes whose path matches the request's path."""
    methods: set[str] = set()
    for context in iter_route_contexts(scope["app"].routes):  # included routers too
        pattern, _, _ = compile_path(context.path_format)
        if context.methods and pattern.match(scope["path"]):
            methods.update(context.methods)
    return methods


class FrontendFiles(StaticFiles):
    """:class:`~starlette.staticfiles.StaticFiles` that leaves the API's paths to the API."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer 405 for an API path asked with another method; serve the files otherwise."""
        if scope["type"] == "http":
            methods = allowed_methods(scope)
            if methods:
                response = JSONResponse(
                    {"detail": "Method Not Allowed"},
                    status_code=405,
                    headers={"Allow": ", ".join(sorted(methods))},
                )
                await response(scope, receive, send)
                return
        await super().__call__(scope, receive, send)
