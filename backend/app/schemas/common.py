"""Shapes shared by several routes."""

from pydantic import BaseModel


class Message(BaseModel):
    """A plain message."""

    message: str


class ErrorResponse(BaseModel):
    """Every error the API returns: ``{"detail": ...}``."""

    detail: str
