"""Walk the OpenAPI document's operations with the routes (and dependencies) behind them."""

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

ERROR_SCHEMA_REF: dict[str, Any] = {"$ref": "#/components/schemas/ErrorResponse"}
"""The schema of every ``{"detail": ...}`` error answer."""


def add_error_response(operation: dict[str, Any], status: str, description: str) -> None:
    """Document the error ``status`` on ``operation``, or add ``description`` to a documented one.

    Args:
        operation: An OpenAPI operation object, edited in place.
        status: The status code, as the document's keys are (``"401"``).
        description: When the API answers it; appended (``Or: ...``) to an existing one.
    """
    responses = operation.setdefault("responses", {})
    existing = responses.get(status)
    if existing is None:
        responses[status] = {
            "description": description,
            "content": {"application/json": {"schema": ERROR_SCHEMA_REF}},
        }
    elif description not in existing.get("description", ""):
        existing["description"] = f"{existing['description']} Or: {description}"


def depends_on(dependant: Dependant, wanted: Callable[[Any], bool]) -> bool:
    """Whether ``dependant`` or any of its sub-dependencies calls something ``wanted`` accepts."""
    return wanted(dependant.call) or any(depends_on(d, wanted) for d in dependant.dependencies)


def operations_where(
    app: FastAPI, document: dict[str, Any], wanted: Callable[[Any], bool]
) -> Iterator[dict[str, Any]]:
    """Yield the document's operations whose route depends on a callable ``wanted`` accepts.

    Args:
        app: The application whose routes the document describes.
        document: Its OpenAPI document (``app.openapi()`` being built), edited in place by the
            caller through the yielded operation objects.
        wanted: Tells, for each dependency's callable (and each route's endpoint), whether it
            is the one looked for.

    Yields:
        The operation object (``paths[path][method]``) of each matching route and method.
    """
    paths = document.get("paths", {})
    # The routes as FastAPI's own document generator walks them (included routers, prefixes).
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        if not depends_on(route.dependant, wanted):
            continue
        for method in context.methods or ():
            operation = paths.get(context.path_format, {}).get(method.lower())
            if operation is not None:
                yield operation
