"""Password hashing (argon2 through pwdlib) and JWT access tokens (PyJWT, HS256).

Passwords are compared after Unicode NFC normalisation: an "é" typed as one character or as
"e" plus a combining accent (macOS keyboards, some password managers) is the same password.
Hashes made before normalisation (from whatever form was typed) keep working: the typed form
and its NFD form are tried too, and :func:`verify_password` says when the hash should be
replaced by the NFC one.
"""

import functools
import re
import time
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Final, NamedTuple

import jwt
from pwdlib import PasswordHash

ALGORITHM: Final = "HS256"
VERIFIED_TOKENS_CACHED: Final = 4096
"""Valid tokens whose signature check is remembered (each one a few hundred bytes)."""

_password_hash: Final = PasswordHash.recommended()
# Verified against when the e-mail is unknown, so both answers take the same time.
_DUMMY_HASH: Final = _password_hash.hash("dummy password, never valid")


class InvalidTokenError(Exception):
    """The token is forged, expired or malformed."""


class TokenClaims(NamedTuple):
    """What a valid access token says: whom it was issued to, and when."""

    subject: str
    """The ``sub`` claim: the user's id, as text."""
    issued_at: int
    """The ``iat`` claim: when it was issued (Unix time, whole seconds)."""


def normalize_password(password: str) -> str:
    """The form in which passwords are hashed and compared (Unicode NFC)."""
    return unicodedata.normalize("NFC", password)


def _candidate_forms(password: str) -> list[str]:
    """NFC first, then the typed and NFD forms older hashes may have been made from."""
    forms = [normalize_password(password)]
    for form in (password, unicodedata.normalize("NFD", password)):
        if form not in forms:
            forms.append(form)
    return forms


def hash_password(password: str) -> str:
    """Return the argon2 hash of a password (of its NFC form)."""
    return _password_hash.hash(normalize_password(password))


def verify_password(password: str, hashed_password: str | None) -> tuple[bool, bool]:
    """Tell whether ``password`` matches ``hashed_password`` (``None``: unknown user).

    Returns:
        ``(matches, rehash)``: ``rehash`` is true when the hash was made from a form other
        than NFC, so that the caller can store :func:`hash_password` of it instead.
    """
    forms = _candidate_forms(password)
    if hashed_password is None:
        for form in forms:  # as many verifications as for a known user: same time
            _password_hash.verify(form, _DUMMY_HASH)
        return False, False
    for position, form in enumerate(forms):
        if _password_hash.verify(form, hashed_password):
            return True, position > 0
    return False, False


def create_access_token(subject: str | int, secret_key: str, expires_delta: timedelta) -> str:
    """Return a signed JWT for ``subject`` (``sub``), issued now (``iat``), valid a while."""
    now = datetime.now(UTC)
    claims = {"exp": now + expires_delta, "iat": now, "sub": str(subject)}
    return jwt.encode(claims, secret_key, algorithm=ALGORITHM)


@functools.lru_cache(maxsize=VERIFIED_TOKENS_CACHED)
def _verified_claims(token: str, secret_key: str) -> tuple[TokenClaims, float]:
    """The claims and expiry of a token whose signature and claims are valid (cached).

    Whether a token is signed by ``secret_key`` and well formed never changes: the check is
    made once per token, and only the expiry is compared at every use
    (:func:`decode_access_token`). Refused tokens are not cached.

    Raises:
        InvalidTokenError: the signature or the payload is wrong.
    """
    try:
        payload = jwt.decode(
            token,
            secret_key,
            algorithms=[ALGORITHM],
            options={"require": ["exp", "iat", "sub"], "verify_exp": False},
        )
    except jwt.PyJWTError as error:
        raise InvalidTokenError(str(error)) from error
    subject, expiry = payload.get("sub"), payload.get("exp")
    if not isinstance(subject, str) or not subject:
        raise InvalidTokenError("The token has no subject.")
    if not isinstance(expiry, int | float) or isinstance(expiry, bool):
        raise InvalidTokenError("Expiration Time claim (exp) must be a number.")
    issued_at = payload.get("iat")  # PyJWT checked it is a whole number, not in the future
    if not isinstance(issued_at, int):
        raise InvalidTokenError("Issued At claim (iat) must be an integer.")
    return TokenClaims(subject, issued_at), float(expiry)


def decode_access_token(token: str, secret_key: str) -> TokenClaims:
    """Return the claims of a valid token.

    Raises:
        InvalidTokenError: the signature, the expiry or the payload is wrong.
    """
    claims, expiry = _verified_claims(token, secret_key)
    if expiry <= time.time():  # PyJWT's rule, without leeway
        raise InvalidTokenError("Signature has expired")
    return claims


_USER_ID: Final = re.compile(r"[1-9][0-9]{0,9}")


def token_user_id(subject: str, maximum: int) -> int:
    """The user id a token's subject names.

    Args:
        subject: The ``sub`` claim.
        maximum: The largest id a user can have (the ``users.id`` column's range).

    Raises:
        InvalidTokenError: the subject is not a decimal id between 1 and ``maximum``.
    """
    if _USER_ID.fullmatch(subject) is None or int(subject) > maximum:
        raise InvalidTokenError("The token's subject is not a user id.")
    return int(subject)
