"""Query strings hold only the parameters the route publishes: a misspelt one is a 422.

FastAPI ignores query parameters a route does not declare, so a misspelt filter
(``?model_verison=3``) would answer the unfiltered list, and a misspelt ``limit`` the default
page, without a word. Every route of the API refuses them instead, as the JSON bodies refuse
unknown fields (``extra_forbidden``), and as FastAPI's own query-parameter models do with
``extra="forbid"``.
"""

from collections.abc import Iterable
from typing import Any, Final

from fastapi import Request
from fastapi.dependencies.utils import get_flat_params
from fastapi.exceptions import RequestValidationError
from fastapi.params import Query
from fastapi.routing import APIRoute

EXTRA_MESSAGE: Final = "Extra inputs are not permitted"
"""Pydantic's words for a field a model forbids (``extra="forbid"``)."""
_CACHED: Final = "_declared_query_names"


def declared_query_names(route: APIRoute) -> frozenset[str]:
    """The query parameters ``route`` and its dependencies declare, by their published name.

    Computed once per route (kept on the route object).
    """
    names: frozenset[str] | None = getattr(route, _CACHED, None)
    if names is None:
        fields = get_flat_params(route.dependant)
        names = frozenset(field.alias for field in fields if isinstance(field.field_info, Query))
        setattr(route, _CACHED, names)
    return names


def refuse_unknown_query_parameters(request: Request) -> None:
    """Router dependency: refuse a query parameter the matched route does not take.

    Raises:
        RequestValidationError: 422 ``extra_forbidden`` at ``("query", name)`` for each one.
    """
    route: Any = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.query_params:
        return
    unknown = sorted(set(request.query_params.keys()) - declared_query_names(route))
    if unknown:
        raise extra_inputs_error(unknown, "query")


def extra_inputs_error(names: Iterable[str], where: str) -> RequestValidationError:
    """The 422 for inputs nobody takes: ``extra_forbidden`` at ``(where, name)`` for each."""
    return RequestValidationError(
        [
            {
                "loc": (where, name),
                "msg": "Extra inputs are not permitted",
                "type": "extra_forbidden",
            }
            for name in names
        ]
    )
