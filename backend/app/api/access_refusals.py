"""Publish the 401 and 403 of every operation that needs a bearer token.

The token checks live in dependencies (:mod:`app.api.deps`), which FastAPI does not document:
this adds their answers to each operation that depends on them, so that every answer the API
gives is one its OpenAPI document announces.
"""

from typing import Any, Final

from fastapi import FastAPI

from app.api.deps import oauth2_scheme, require_admin
from app.api.openapi_operations import add_error_response, operations_where

NOT_AUTHENTICATED: Final = (
    "No bearer token, or one that is forged, expired, malformed or of a user who no longer exists."
)
INACTIVE: Final = "The user is inactive."
NOT_ADMIN: Final = "The user is not an administrator."


def document_access_refusals(app: FastAPI, document: dict[str, Any]) -> None:
    """Add 401 and 403 to every operation needing a token, and the admin 403 to admin ones."""
    for operation in operations_where(app, document, lambda call: call is oauth2_scheme):
        add_error_response(operation, "401", NOT_AUTHENTICATED)
        add_error_response(operation, "403", INACTIVE)
    for operation in operations_where(app, document, lambda call: call is require_admin):
        add_error_response(operation, "403", NOT_ADMIN)
