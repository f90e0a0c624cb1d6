"""Shapes of users as the API reads and returns them."""

from pydantic import BaseModel, ConfigDict, Field

from app.core.emails import Email

PASSWORD_MIN, PASSWORD_MAX = 8, 128


class UserBase(BaseModel):
    """Properties shared by every user shape."""

    email: Email
    full_name: str | None = Field(default=None, max_length=255)
    is_active: bool = True
    is_admin: bool = False


class UserCreate(UserBase):
    """What an administrator sends to create a user."""

    password: str = Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)


class UserRegister(BaseModel):
    """What anybody sends to open an account (when open registration is on)."""

    email: Email
    password: str = Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)
    full_name: str | None = Field(default=None, max_length=255)


class UserUpdate(BaseModel):
    """What an administrator sends to change a user (absent fields stay as they are)."""

    email: Email | None = None
    full_name: str | None = Field(default=None, max_length=255)
    password: str | None = Field(default=None, min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)
    is_active: bool | None = None
    is_admin: bool | None = None


class UserUpdateMe(BaseModel):
    """What users send to change themselves (absent fields stay as they are)."""

    email: Email | None = None
    full_name: str | None = Field(default=None, max_length=255)
    password: str | None = Field(default=None, min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)


class User(UserBase):
    """A user as the API returns it (never with a password)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
