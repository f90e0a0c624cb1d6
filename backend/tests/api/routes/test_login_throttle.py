"""Failed logins are limited per account and per client address (429 with Retry-After)."""

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from limits import parse
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from app.api.login_throttle import LoginAttempt, LoginThrottle
from app.core.config import Settings
from app.core.limits_storage import open_limits_storage
from app.main import create_app
from app.schemas.token import MAX_USERNAME_LENGTH
from tests.conftest import Account, login, make_account, make_settings

API = "/api/v1"
LOGIN = f"{API}/login/access-token"
WINDOW_SECONDS = 15 * 60
UNREACHABLE_REDIS = "redis://127.0.0.1:9/0"  # the discard port: nothing listens


@contextmanager
def throttled_client(database_url: str, **limits: str) -> Iterator[TestClient]:
    """An application (serving no model) with the given login limits."""
    settings = make_settings(database_url, MODEL_NAME="absent-model", **limits)
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def account(session_factory: sessionmaker[Session], app_settings: Settings) -> Account:
    return make_account(session_factory, app_settings)


def assert_throttled(response: Any) -> int:
    """Check a 429 and return its ``Retry-After`` (seconds)."""
    assert response.status_code == 429, response.text
    assert "Too many failed logins" in response.json()["detail"]
    wait = int(response.headers["Retry-After"])
    assert 1 <= wait <= WINDOW_SECONDS
    return wait


def test_an_account_is_refused_after_its_failures_even_with_the_right_password(
    database_url, account
):
    with throttled_client(database_url, LOGIN_FAILURES_PER_ACCOUNT="3 per 15 minutes") as client:
        for _ in range(3):
            assert login(client, account.email, "wrong-password").status_code == 401
        assert_throttled(login(client, account.email, "wrong-password"))
        assert_throttled(login(client, account.email, account.password))
        # The same account however its address is written; another account is not affected.
        assert_throttled(login(client, f"  {account.email.upper()} ", account.password))
        assert login(client, "admin@example.com", "wrong-password").status_code == 401


def test_a_successful_login_clears_the_account_failures(database_url, account):
    with throttled_client(database_url, LOGIN_FAILURES_PER_ACCOUNT="3 per 15 minutes") as client:
        for _ in range(2):
            assert login(client, account.email, "wrong-password").status_code == 401
        assert login(client, account.email, account.password).status_code == 200
        for _ in range(3):
            assert login(client, account.email, "wrong-password").status_code == 401
        assert_throttled(login(client, account.email, "wrong-password"))


def test_wrong_current_passwords_of_a_profile_change_count_as_failed_logins(database_url, account):
    change = {"password": "new-password-1", "current_password": "wrong-password"}
    with throttled_client(database_url, LOGIN_FAILURES_PER_ACCOUNT="3 per 15 minutes") as client:
        for _ in range(2):
            response = client.put(f"{API}/users/me", json=change, headers=account.headers)
            assert response.status_code == 400, response.text
        assert login(client, account.email, "wrong-password").status_code == 401
        # Past the limit: the change is refused even with the right password, so is a login.
        right = {**change, "current_password": account.password}
        assert_throttled(client.put(f"{API}/users/me", json=right, headers=account.headers))
        assert_throttled(login(client, account.email, account.password))


def test_unknown_accounts_are_counted_like_known_ones(database_url):
    nobody = f"nobody-{uuid.uuid4().hex[:8]}@example.com"
    with throttled_client(database_url, LOGIN_FAILURES_PER_ACCOUNT="2 per 15 minutes") as client:
        assert [login(client, nobody, "x").status_code for _ in range(2)] == [401, 401]
        assert_throttled(login(client, nobody, "x"))


def test_a_client_is_refused_after_failures_on_many_accounts(database_url, account):
    with throttled_client(
        database_url, LOGIN_FAILURES_PER_ACCOUNT="", LOGIN_FAILURES_PER_CLIENT="4 per minute"
    ) as client:
        for index in range(4):
            assert login(client, f"spray-{index}@example.com", "password1").status_code == 401
        assert_throttled(login(client, account.email, account.password))
        # Another address is not refused.
        other = TestClient(client.app, client=("198.51.100.7", 50000))
        assert login(other, account.email, account.password).status_code == 200


def test_without_limits_failures_are_never_refused(database_url, account):
    with throttled_client(
        database_url, LOGIN_FAILURES_PER_ACCOUNT="", LOGIN_FAILURES_PER_CLIENT=""
    ) as client:
        assert {login(client, account.email, "wrong").status_code for _ in range(12)} == {401}
        assert login(client, account.email, account.password).status_code == 200


def test_the_429_is_published_with_retry_after(database_url):
    with throttled_client(database_url) as client:
        operation = client.get("/openapi.json").json()["paths"][LOGIN]["post"]
    refused = operation["responses"]["429"]
    assert "Retry-After" in refused["headers"]
    assert refused["content"]["application/json"]


def _redis_reachable() -> bool:
    try:
        return bool(redis.Redis(host="127.0.0.1", port=6379, socket_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.mark.skipif(not _redis_reachable(), reason="no Redis at 127.0.0.1:6379")
def test_a_shared_redis_storage_counts_across_applications(database_url, account):
    shared = {
        "LOGIN_FAILURES_PER_ACCOUNT": "3 per 15 minutes",
        "LOGIN_LIMITS_STORAGE_URI": "redis://127.0.0.1:6379/0",
    }
    with (
        throttled_client(database_url, **shared) as first,
        throttled_client(database_url, **shared) as second,
    ):
        for client in (first, second, first):
            assert login(client, account.email, "wrong-password").status_code == 401
        assert_throttled(login(second, account.email, account.password))
        assert_throttled(login(first, account.email, account.password))


def test_an_unreachable_storage_does_not_stop_logins_and_is_said_once(
    database_url, account, caplog
):
    with throttled_client(
        database_url,
        LOGIN_FAILURES_PER_ACCOUNT="1 per 15 minutes",
        LOGIN_LIMITS_STORAGE_URI=UNREACHABLE_REDIS,
    ) as client:
        # Said at start, before any login.
        assert caplog.text.count("Failed logins are not counted") == 1
        assert [login(client, account.email, "wrong").status_code for _ in range(3)] == [401] * 3
        assert login(client, account.email, account.password).status_code == 200
    assert caplog.text.count("Failed logins are not counted") == 1


def test_readiness_warns_while_failed_logins_cannot_be_counted(database_url, trained_text, account):
    settings = make_settings(
        database_url,
        MODEL_NAME="text",
        MODEL_ALIAS="production",
        LOGIN_LIMITS_STORAGE_URI=UNREACHABLE_REDIS,
    )
    with TestClient(create_app(settings)) as client:
        assert login(client, account.email, "wrong").status_code == 401
        answer = client.get(f"{API}/health/ready")
    assert answer.status_code == 200
    (warning,) = [text for text in answer.json()["warnings"] if "LOGIN_LIMITS" in text]
    assert "not throttled" in warning


def test_concurrent_guesses_do_not_pass_the_account_limit(database_url, account):
    with (
        throttled_client(database_url, LOGIN_FAILURES_PER_ACCOUNT="3 per 15 minutes") as client,
        ThreadPoolExecutor(max_workers=8) as pool,
    ):
        statuses = list(
            pool.map(lambda _: login(client, account.email, "wrong").status_code, range(8))
        )
    assert sorted(statuses) == [401] * 3 + [429] * 5


def test_concurrent_failures_do_not_pass_the_client_limit(database_url, account):
    # Many accounts (their own limit is out of the way), one address, 8 at once: before, all
    # those in flight passed the client's count before the first failures were recorded.
    limits = {"LOGIN_FAILURES_PER_CLIENT": "5 per 15 minutes", "LOGIN_FAILURES_PER_ACCOUNT": ""}
    with throttled_client(database_url, **limits) as client, ThreadPoolExecutor(8) as pool:
        statuses = list(
            pool.map(
                lambda number: login(client, f"guess-{number}@example.com", "wrong").status_code,
                range(40),
            )
        )
        assert_throttled(login(client, account.email, account.password))
    assert statuses.count(401) == 5, statuses
    assert statuses.count(429) == 35, statuses


def test_a_client_at_its_limit_logs_in_when_nothing_else_is_in_flight(database_url, account):
    limits = {"LOGIN_FAILURES_PER_CLIENT": "3 per 15 minutes"}
    with throttled_client(database_url, **limits) as client:
        for number in range(2):
            assert login(client, f"guess-{number}@example.com", "wrong").status_code == 401
        assert login(client, account.email, account.password).status_code == 200
        assert login(client, account.email, account.password).status_code == 200
        assert login(client, "guess-2@example.com", "wrong").status_code == 401
        assert_throttled(login(client, account.email, account.password))


def memory_throttle(per_account: str | None, per_client: str | None) -> LoginThrottle:
    """A throttle counting in memory, with limits such as ``"2 per 15 minutes"``."""
    return LoginThrottle(
        open_limits_storage("memory://"),
        per_account=parse(per_account) if per_account else None,
        per_client=parse(per_client) if per_client else None,
    )


@pytest.mark.parametrize("kind", ["per_client", "per_account"])
def test_a_refusal_by_attempts_in_flight_asks_to_retry_soon(kind):
    limit = "2 per 15 minutes"
    limits = {
        "per_account": limit if kind == "per_account" else None,
        "per_client": limit if kind == "per_client" else None,
    }
    throttle = memory_throttle(**limits)
    # Three attempts at once: on one account from three addresses, or from one address.
    attempts = [
        LoginAttempt(account="a@example.com", client="10.0.0.1" if kind == "per_client" else ip)
        for ip in ("10.0.0.1", "10.0.0.2", "10.0.0.3")
    ]
    with (
        throttle.admitted(attempts[0]) as first,
        throttle.admitted(attempts[1]) as second,
        throttle.admitted(attempts[2]) as third,
    ):
        assert (first, second, third) == (None, None, 1)
    # Two failures recorded one after the other: the next one waits for the window.
    throttle = memory_throttle(**limits)
    for attempt in attempts[:2]:
        with throttle.admitted(attempt) as wait:
            assert wait is None
            throttle.record_failure(attempt)
    with throttle.admitted(attempts[2]) as wait:
        assert wait is not None
        assert WINDOW_SECONDS - 60 < wait <= WINDOW_SECONDS


def test_a_username_longer_than_any_address_is_refused_before_any_work(database_url):
    with throttled_client(database_url, LOGIN_FAILURES_PER_ACCOUNT="1 per 15 minutes") as client:
        longest = "a" * 64 + "@" + "b" * (MAX_USERNAME_LENGTH - 65)
        assert login(client, longest, "wrong").status_code == 401
        for _ in range(2):
            refused = login(client, longest + "b", "wrong")
            assert refused.status_code == 422
            (error,) = refused.json()["detail"]
            assert error["loc"] == ["body", "username"]
            assert error["type"] == "string_too_long"
        assert_throttled(login(client, longest, "wrong"))


def test_the_login_form_publishes_the_longest_username(database_url):
    with throttled_client(database_url) as client:
        document = client.get("/openapi.json").json()
    body = document["paths"][f"{API}/login/access-token"]["post"]["requestBody"]
    reference = body["content"]["application/x-www-form-urlencoded"]["schema"]["$ref"]
    form = document["components"]["schemas"][reference.rsplit("/", 1)[-1]]
    assert form["properties"]["username"]["maxLength"] == MAX_USERNAME_LENGTH
    assert form["required"] == ["username", "password"]
    assert form["properties"]["username"]["minLength"] == 1
    assert form["properties"]["password"]["minLength"] == 1
    for empty in ({"username": "", "password": "x"}, {"username": "a@example.com", "password": ""}):
        refused = client.post(f"{API}/login/access-token", data=empty)
        assert refused.status_code == 422, refused.text


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LOGIN_FAILURES_PER_ACCOUNT", "ten per minute"),
        ("LOGIN_FAILURES_PER_ACCOUNT", "0 per minute"),
        ("LOGIN_FAILURES_PER_CLIENT", "-1 per minute"),
        ("LOGIN_FAILURES_PER_ACCOUNT", "10 per minute;5 per second"),
        ("LOGIN_FAILURES_PER_ACCOUNT", "10 per 0 minutes"),
        ("LOGIN_FAILURES_PER_ACCOUNT", "2 per 99999999999999999999 years"),
        ("LOGIN_FAILURES_PER_CLIENT", "2 per 2 days"),
        ("LOGIN_LIMITS_STORAGE_URI", "mongodb://localhost"),
        ("LOGIN_LIMITS_STORAGE_URI", "foo://localhost"),
        ("LOGIN_LIMITS_STORAGE_URI", "async+memory://"),
    ],
)
def test_invalid_login_limit_settings_are_refused(database_url, name, value):
    with pytest.raises(ValidationError, match=name):
        make_settings(database_url, **{name: value})
