"""Data access for users."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.security import hash_password, verify_password
from app.db.models import User


def get_user(session: Session, user_id: int) -> User | None:
    """Return the user with this id, if any."""
    return session.get(User, user_id)


def get_user_by_email(session: Session, email: str) -> User | None:
    """Return the user with this e-mail, if any."""
    return session.scalars(select(User).where(User.email == email)).one_or_none()


def list_users(session: Session, skip: int = 0, limit: int = 100) -> Sequence[User]:
    """Return users by id, paged."""
    return session.scalars(select(User).order_by(User.id).offset(skip).limit(limit)).all()


def create_user(
    session: Session,
    *,
    email: str,
    password: str,
    full_name: str | None = None,
    is_active: bool = True,
    is_admin: bool = False,
) -> User:
    """Add a user with a hashed password and flush it (the caller commits)."""
    user = User(
        email=email,
        hashed_password=hash_password(password),
        full_name=full_name,
        is_active=is_active,
        is_admin=is_admin,
    )
    session.add(user)
    session.flush()
    return user


def update_user(session: Session, user: User, changes: dict[str, Any]) -> User:
    """Apply ``changes`` (field → value; ``password`` is hashed) and flush."""
    for field, value in changes.items():
        if field == "password":
            user.hashed_password = hash_password(value)
        else:
            setattr(user, field, value)
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """Return the user when the e-mail and password match, else ``None``."""
    user = get_user_by_email(session, email)
    if not verify_password(password, user.hashed_password if user else None):
        return None
    return user
