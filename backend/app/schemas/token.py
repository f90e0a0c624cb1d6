"""Shapes of the OAuth2 password flow: the login form and its answer."""

from typing import Final

from pydantic import BaseModel, Field

MAX_USERNAME_LENGTH: Final = 320
"""Longest ``username`` a login reads, in characters: an e-mail address is at most 64
characters before the ``@`` and 255 after it (RFC 5321); a longer one is no account's."""


class LoginForm(BaseModel):
    """The OAuth2 password grant's form (RFC 6749, section 4.3.2), sent URL-encoded.

    An empty field counts as a missing one (422).
    """

    # FastAPI's OAuth2PasswordRequestForm's fields, with the lengths the login checks published.

    grant_type: str | None = Field(
        default=None, pattern="^password$", description="`password` when sent."
    )
    username: str = Field(
        min_length=1,
        max_length=MAX_USERNAME_LENGTH,
        description="The account's e-mail address, whatever its case.",
    )
    password: str = Field(min_length=1, json_schema_extra={"format": "password"})
    scope: str = Field(default="", description="Not used: a token has its account's rights.")
    client_id: str | None = None
    client_secret: str | None = Field(default=None, json_schema_extra={"format": "password"})


class Token(BaseModel):
    """An access token to send as ``Authorization: Bearer <access_token>``."""

    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
