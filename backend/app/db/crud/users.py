"""Data access for users (functions add and flush; the request's unit of work commits)."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from app.core.emails import email_key
from app.core.security import hash_password, verify_password
from app.db.models import User

_STANDING: Final = select(User.is_active, User.created_at).where(User.id == bindparam("user_id"))
"""Built once: building the statement at each request cost half as much as running it."""


def get_user(session: Session, user_id: int) -> User | None:
    """Return the user with this id, if any."""
    return session.get(User, user_id)


def user_standing(session: Session, user_id: int) -> tuple[bool, datetime] | None:
    """Whether the user ``user_id`` is active, and when it was created; ``None``: no such user.

    One primary-key lookup of two columns on the session's connection, without loading a
    :class:`User`: a fraction of :func:`get_user`'s cost, for every prediction request.
    """
    row = session.connection().execute(_STANDING, {"user_id": user_id}).one_or_none()
    return None if row is None else (bool(row.is_active), row.created_at)


def get_user_by_email(session: Session, email: str) -> User | None:
    """Return the user with this e-mail, whatever its case (see :func:`email_key`), if any."""
    return session.scalars(select(User).where(User.email_key == email_key(email))).one_or_none()


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
        email_key=email_key(email),
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
        if field == "email":
            user.email_key = email_key(value)
    session.flush()
    return user


def check_password(
    session: Session, user: User | None, password: str, *, upgrade: bool = True
) -> bool:
    """Whether ``password`` is ``user``'s (``None``: no such user, checked in the same time).

    Args:
        session: The request's session.
        user: Whose password it should be.
        password: As typed.
        upgrade: Replace a hash made before passwords were NFC-normalised by the normalised
            one when it matches (the caller commits); ``False`` when the caller sets a new
            password anyway.
    """
    matches, rehash = verify_password(password, user.hashed_password if user else None)
    if not matches or user is None:
        return False
    if rehash and upgrade:
        update_user(session, user, {"password": password})
    return True


def authenticate(session: Session, email: str, password: str) -> User | None:
    """Return the user whose e-mail and password these are (:func:`check_password`), or ``None``."""
    user = get_user_by_email(session, email)
    return user if check_password(session, user, password) else None


def lock_active_admins(session: Session) -> None:
    """Lock the rows of the active administrators until the unit of work ends.

    On PostgreSQL, ``SELECT ... FOR UPDATE`` makes concurrent changes to administrators wait
    for each other, so that :func:`count_active_admins` sees the other's result. SQLite has no
    row locks (the clause is left out): there the first write of the transaction takes the
    database's write lock, which serialises writers the same way.
    """
    query = select(User.id).where(User.is_admin, User.is_active).order_by(User.id)
    session.execute(query.with_for_update())


def count_active_admins(session: Session) -> int:
    """Count the active administrators, as the unit of work sees them (flushed changes)."""
    query = select(func.count()).select_from(User).where(User.is_admin, User.is_active)
    return int(session.scalar(query) or 0)
