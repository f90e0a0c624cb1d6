"""The OpenAPI document, with integer bounds written as the exact integers they are.

FastAPI passes the document through its OpenAPI models, whose ``minimum`` and ``maximum`` are
floats: ``2^63 - 1``, the largest ``BigInteger``, would be published as ``9.223372036854776e18``
(that is ``2^63``, one past the column's range). The bounds are written back as integers here.
"""

from typing import Any, Final

from fastapi import FastAPI

from app.api.access_refusals import document_access_refusals
from app.api.body_refusals import document_body_refusals, document_head_refusals
from app.api.database_unavailable import document_database_503
from app.api.input_boundary import document_text_refusals
from app.schemas.bounds import INT64_MAX

_BOUND_KEYS: Final = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
_EXACT: Final = {float(INT64_MAX): INT64_MAX, float(-INT64_MAX - 1): -INT64_MAX - 1}
"""Bounds a float cannot hold exactly, by the float they were rounded to."""


def _exact_bounds(node: Any) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _BOUND_KEYS and isinstance(value, float) and value.is_integer():
                node[key] = _EXACT.get(value, int(value))
            else:
                _exact_bounds(value)
    elif isinstance(node, list):
        for item in node:
            _exact_bounds(item)


def document_batch_size(app: FastAPI, document: dict[str, Any]) -> None:
    """Publish the batch's bounds (1 to ``MAX_BATCH_SIZE`` products), a setting of the app."""
    settings = app.state.settings
    operation = document["paths"].get(f"{settings.API_V1_STR}/predict/batch", {}).get("post")
    if operation is None:
        return
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    schema.update(minItems=1, maxItems=settings.MAX_BATCH_SIZE)


def install_exact_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` (and ``/openapi.json``) publish integer bounds exactly.

    The document also gets the batch's size bounds (:func:`document_batch_size`), the database's
    503 on every operation that uses the database
    (:func:`~app.api.database_unavailable.document_database_503`) and the 401 and 403 of every
    operation that needs a token (:func:`~app.api.access_refusals.document_access_refusals`)
    the refusals of a body (:func:`~app.api.body_refusals.document_body_refusals`), the server's
    414 and 431 (:func:`~app.api.body_refusals.document_head_refusals`) and the 422
    of text the input boundary refuses on every operation
    (:func:`~app.api.input_boundary.document_text_refusals`).
    """
    generate = app.openapi  # FastAPI's: builds the document once, then returns it
    corrected: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        document = generate()
        if not corrected:
            _exact_bounds(document)
            document_batch_size(app, document)
            document_database_503(app, document)
            document_access_refusals(app, document)
            document_body_refusals(document)
            document_head_refusals(document)
            document_text_refusals(document)
            corrected.append(document)
        return document

    app.openapi = openapi  # type: ignore[method-assign]
