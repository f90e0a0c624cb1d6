"""Shapes of the OAuth2 login answer."""

from pydantic import BaseModel


class Token(BaseModel):
    """An access token to send as ``Authorization: Bearer <access_token>``."""

    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
