"""Password hashing (argon2 through pwdlib) and JWT access tokens (PyJWT, HS256)."""

from datetime import UTC, datetime, timedelta
from typing import Final

import jwt
from pwdlib import PasswordHash

ALGORITHM: Final = "HS256"

_password_hash: Final = PasswordHash.recommended()
# Verified against when the e-mail is unknown, so both answers take the same time.
_DUMMY_HASH: Final = _password_hash.hash("dummy password, never valid")


class InvalidTokenError(Exception):
    """The token is forged, expired or malformed."""


def hash_password(password: str) -> str:
    """Return the argon2 hash of a password."""
    return _password_hash.hash(password)


def verify_password(password: str, hashed_password: str | None) -> bool:
    """Tell whether ``password`` matches ``hashed_password`` (``None``: unknown user)."""
    if hashed_password is None:
        _password_hash.verify(password, _DUMMY_HASH)
        return False
    return _password_hash.verify(password, hashed_password)


def create_access_token(subject: str | int, secret_key: str, expires_delta: timedelta) -> str:
    """Return a signed JWT whose ``sub`` is ``subject``, valid for ``expires_delta``."""
    expire = datetime.now(UTC) + expires_delta
    return jwt.encode({"exp": expire, "sub": str(subject)}, secret_key, algorithm=ALGORITHM)


def decode_access_token(token: str, secret_key: str) -> str:
    """Return the subject of a valid token.

    Raises:
        InvalidTokenError: the signature, the expiry or the payload is wrong.
    """
    try:
        payload = jwt.decode(
            token, secret_key, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]}
        )
    except jwt.PyJWTError as error:
        raise InvalidTokenError(str(error)) from error
    subject = payload.get("sub")
    if not isinstance(subject, str) or not subject:
        raise InvalidTokenError("The token has no subject.")
    return subject
