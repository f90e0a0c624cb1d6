"""Password hashing and access tokens."""

import time
from datetime import timedelta

import jwt
import pytest

from app.core.security import (
    InvalidTokenError,
    create_access_token,
    decode_access_token,
    hash_password,
    verify_password,
)

SECRET = "a-secret-key-long-enough-for-hs256-signing"


def test_password_hash_round_trip():
    hashed = hash_password("correct horse")
    assert hashed.startswith("$argon2")
    assert verify_password("correct horse", hashed) == (True, False)
    assert verify_password("wrong horse", hashed) == (False, False)
    assert verify_password("correct horse", None) == (False, False)


def test_token_round_trip():
    token = create_access_token(42, SECRET, timedelta(minutes=5))
    assert decode_access_token(token, SECRET).subject == "42"


def test_expired_token_refused():
    token = create_access_token(42, SECRET, timedelta(seconds=-1))
    with pytest.raises(InvalidTokenError):
        decode_access_token(token, SECRET)


def test_a_token_checked_before_is_refused_once_expired():
    token = create_access_token(42, SECRET, timedelta(seconds=2))
    assert decode_access_token(token, SECRET).subject == "42"  # its signature check is remembered
    expiry = jwt.decode(token, options={"verify_signature": False})["exp"]
    time.sleep(max(0.0, expiry - time.time()) + 0.1)
    with pytest.raises(InvalidTokenError, match="expired"):
        decode_access_token(token, SECRET)


def test_forged_token_refused():
    token = create_access_token(
        42, "another-secret-key-long-enough-for-hs256", timedelta(minutes=5)
    )
    with pytest.raises(InvalidTokenError):
        decode_access_token(token, SECRET)


def test_token_without_subject_expiry_or_issue_time_refused():
    no_sub = jwt.encode({"exp": 9999999999, "iat": 1}, SECRET, algorithm="HS256")
    no_exp = jwt.encode({"sub": "1", "iat": 1}, SECRET, algorithm="HS256")
    no_iat = jwt.encode({"sub": "1", "exp": 9999999999}, SECRET, algorithm="HS256")
    float_iat = jwt.encode({"sub": "1", "exp": 9999999999, "iat": 1.5}, SECRET, algorithm="HS256")
    for token in (no_sub, no_exp, no_iat, float_iat, "not-a-token"):
        with pytest.raises(InvalidTokenError):
            decode_access_token(token, SECRET)


def test_unsigned_token_refused():
    token = jwt.encode({"sub": "1", "exp": 9999999999}, key="", algorithm="none")
    with pytest.raises(InvalidTokenError):
        decode_access_token(token, SECRET)
