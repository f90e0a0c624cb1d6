"""Shapes of users as the API reads and returns them.

What a client sends is read strictly: a field the shape does not have is a 422 (a non-admin
sending ``is_admin`` learns that it cannot, instead of a 200 that changed nothing), booleans
must be JSON booleans (``"no"`` is not false), and in an update only ``full_name`` may be
``null`` (to clear it); the other fields are left out to stay as they are.
"""

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool

from app.core.emails import Email
from app.core.security import normalize_password

PASSWORD_MIN, PASSWORD_MAX = 8, 128


def _normalized(value: Any) -> Any:
    return normalize_password(value) if isinstance(value, str) else value


NewPassword = Annotated[
    str,
    Field(
        min_length=PASSWORD_MIN,
        max_length=PASSWORD_MAX,
        description=f"{PASSWORD_MIN} to {PASSWORD_MAX} characters, counted once NFC-normalised "
        "(a letter typed with a combining accent is one character).",
    ),
    BeforeValidator(_normalized),
]
"""A password being set: 8 to 128 characters counted in its NFC form, as it is hashed (an "é"
typed as "e" plus a combining accent is one character)."""
STRICT_INPUT = ConfigDict(extra="forbid")
"""Input shapes: unknown fields are refused, not ignored."""


def _unchanged_when_absent(schema: dict[str, Any]) -> None:
    schema.pop("default", None)  # absent means "unchanged", not null


def unchanged_when_absent(**constraints: Any) -> Any:
    """A field of an update: absent leaves the stored value, ``null`` is refused (422).

    Args:
        **constraints: pydantic ``Field`` constraints (``min_length``...).
    """
    return Field(default=None, json_schema_extra=_unchanged_when_absent, **constraints)


class UserBase(BaseModel):
    """Properties shared by every user shape."""

    email: Email
    full_name: str | None = Field(default=None, max_length=255)
    is_active: StrictBool = True
    is_admin: StrictBool = False


class UserCreate(UserBase):
    """What an administrator sends to create a user."""

    model_config = STRICT_INPUT

    password: NewPassword


class UserRegister(BaseModel):
    """What anybody sends to open an account (when open registration is on)."""

    model_config = STRICT_INPUT

    email: Email
    password: NewPassword
    full_name: str | None = Field(default=None, max_length=255)


class UserUpdate(BaseModel):
    """What an administrator sends to change a user (absent fields stay as they are)."""

    model_config = STRICT_INPUT

    email: Email = unchanged_when_absent()
    full_name: str | None = Field(
        default=None, max_length=255, description="`null` clears the name."
    )
    password: NewPassword = unchanged_when_absent()
    is_active: StrictBool = unchanged_when_absent()
    is_admin: StrictBool = unchanged_when_absent()


class UserUpdateMe(BaseModel):
    """What users send to change themselves (absent fields stay as they are)."""

    model_config = STRICT_INPUT

    email: Email = unchanged_when_absent()
    full_name: str | None = Field(
        default=None, max_length=255, description="`null` clears the name."
    )
    password: NewPassword = unchanged_when_absent()
    current_password: str = unchanged_when_absent(
        description="Your password as it is now: required to change `email` or `password` "
        "(a token alone cannot take the account over), checked whenever it is sent.",
    )


class User(UserBase):
    """A user as the API returns it (never with a password)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
