"""Refuse logins after too many failures, per account and per client address.

Without it, anyone can try passwords at the speed of the server, and each try costs an Argon2
hash (tens of milliseconds of CPU): a flood of wrong passwords both guesses and slows every
other request. Failures are counted with the ``limits`` library's moving window in
``LOGIN_LIMITS_STORAGE_URI``: ``memory://`` counts in each worker process (with ``N`` workers a
client gets up to ``N`` times the limit), ``redis://host:6379`` shares the count between
workers and replicas. Once a limit is reached, the login is refused with 429 and
``Retry-After`` before the password is hashed.

An account's attempt is counted *before* its password is checked (an atomic hit of the
moving window), so concurrent guesses cannot all pass the check while the first ones are
being hashed; a successful login clears its account's count. A client's count grows with
its failures only (a shared office address is not refused for logging in); its attempts
still being checked in this process count as failures to come, so that concurrent guesses
from one address cannot pass its limit either (with ``N`` processes sharing a store, up to
``N - 1`` more).

If the storage cannot be reached, logins go on without throttling: an outage of the counter
must not lock everyone out. It is logged once when it starts and once when it ends, and
``/health/ready`` lists it in ``warnings`` meanwhile.
"""

import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any, Final, TypeVar

from fastapi import Depends, HTTPException, Request, status
from limits import RateLimitItem, parse
from limits.storage import Storage
from limits.strategies import MovingWindowRateLimiter

from app.core.config import Settings
from app.core.emails import email_key
from app.core.limits_storage import open_limits_storage
from app.schemas.common import ErrorResponse

logger = logging.getLogger(__name__)

T = TypeVar("T")

NAMESPACE: Final = "login-failures"
"""First part of every counter's key, so that a shared store can hold other counters."""
TOO_MANY_FAILURES_RESPONSE: Final[dict[int | str, dict[str, Any]]] = {
    status.HTTP_429_TOO_MANY_REQUESTS: {
        "model": ErrorResponse,
        "description": "Too many failed logins for this account or from this address "
        "(`LOGIN_FAILURES_PER_ACCOUNT`, `LOGIN_FAILURES_PER_CLIENT`): retry after "
        "`Retry-After` seconds",
        "headers": {
            "Retry-After": {
                "description": "Seconds until the next try is allowed.",
                "schema": {"type": "integer", "minimum": 1},
            }
        },
    }
}
"""The 429 of a route that checks a password, as published in the OpenAPI document."""


@dataclass(frozen=True, slots=True)
class LoginAttempt:
    """Who tries to log in: the account's lookup key and the client's address."""

    account: str
    client: str


class LoginThrottle:
    """Counts login attempts and failures and says when the next try is allowed."""

    def __init__(
        self,
        storage: Storage,
        per_account: RateLimitItem | None,
        per_client: RateLimitItem | None,
        storage_uri: str = "",
    ) -> None:
        """Count in ``storage``; a ``None`` limit is not applied.

        Args:
            storage: Where the counts live (:func:`app.core.limits_storage.open_limits_storage`).
            per_account: Attempts allowed per account in the window (a success clears them).
            per_client: Failures allowed per client address in the window.
            storage_uri: The storage's URI, for messages.
        """
        self._storage = storage
        self._storage_uri = storage_uri
        self._limiter = MovingWindowRateLimiter(storage)
        self._per_account = per_account
        self._per_client = per_client
        self._lock = threading.Lock()
        self._in_flight: Counter[str] = Counter()
        """Per client address and per account: attempts of this process being checked."""
        self.problem: str | None = None
        """Why failed logins cannot be counted now (``None``: they are)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> "LoginThrottle":
        """Build from ``LOGIN_FAILURES_PER_ACCOUNT``, ``..._PER_CLIENT`` and the storage URI."""
        per_account, per_client = (
            parse(value) if value else None
            for value in (settings.LOGIN_FAILURES_PER_ACCOUNT, settings.LOGIN_FAILURES_PER_CLIENT)
        )
        uri = settings.LOGIN_LIMITS_STORAGE_URI
        return cls(open_limits_storage(uri), per_account, per_client, uri)

    def _wait(self, limit: RateLimitItem, *key: str) -> int:
        reset = self._limiter.get_window_stats(limit, NAMESPACE, *key).reset_time
        return max(1, math.ceil(reset - time.time()))

    def _storage_failed(self, error: Exception) -> None:
        with self._lock:
            if self.problem is None:
                logger.warning(
                    "Failed logins are not counted (logins are not throttled): the storage "
                    "%s failed: %s",
                    self._storage_uri,
                    error,
                )
            self.problem = (
                f"failed logins are not counted, logins not throttled: LOGIN_LIMITS_STORAGE_URI "
                f"{self._storage_uri} failed: {type(error).__name__}"
            )

    def _storage_answered(self) -> None:
        if self.problem is not None:
            with self._lock:
                if self.problem is not None:
                    logger.warning("Failed logins are counted again (%s).", self._storage_uri)
                self.problem = None

    def check_storage(self) -> None:
        """Ask the storage whether it answers (at start: an outage is logged before a login)."""
        try:
            answers = self._storage.check()
        except self._storage.base_exceptions as error:
            self._storage_failed(error)
            return
        if answers:
            self._storage_answered()
        else:
            self._storage_failed(ConnectionError("it does not answer"))

    def _guarded(self, call: Callable[[], T]) -> T | None:
        """Run one call of the storage; on its failure, log it and answer ``None``."""
        try:
            result = call()
        except self._storage.base_exceptions as error:
            self._storage_failed(error)
            return None
        self._storage_answered()
        return result

    def _refusal_wait(self, attempt: LoginAttempt, in_flight: Counter[str]) -> int | None:
        """The refusal's wait; a second when attempts in flight, not recorded ones, refuse it.

        Those may well succeed (then they count for nothing), so the full window's wait would
        send a client away for minutes for nothing.
        """
        client, account = ("client", attempt.client), ("account", attempt.account)
        if self._per_client is not None and not self._limiter.test(
            self._per_client, NAMESPACE, *client, cost=in_flight["client"]
        ):
            recorded_only = self._limiter.test(self._per_client, NAMESPACE, *client)
            return 1 if recorded_only else self._wait(self._per_client, *client)
        if self._per_account is not None and not self._limiter.hit(
            self._per_account, NAMESPACE, *account
        ):
            return 1 if in_flight["account"] > 1 else self._wait(self._per_account, *account)
        return None

    def _count_in_flight(self, attempt: LoginAttempt, change: int) -> Counter[str]:
        """Add ``change`` to the attempts in flight of its client and account; their counts."""
        keys = {"client": f"client:{attempt.client}", "account": f"account:{attempt.account}"}
        with self._lock:
            counts: Counter[str] = Counter()
            for kind, key in keys.items():
                self._in_flight[key] += change
                counts[kind] = self._in_flight[key]
                if counts[kind] <= 0:
                    del self._in_flight[key]
            return counts

    @contextmanager
    def admitted(self, attempt: LoginAttempt) -> Iterator[int | None]:
        """Count the attempt against its account while its password is checked.

        The client's failures and its attempts in flight in this process (this one included)
        are tested against its limit, then the account's attempts are counted (an atomic hit).
        Record the check's result (:meth:`record_failure`, :meth:`record_success`) inside the
        block: on leaving it the attempt is no longer in flight.

        Yields:
            Seconds until the next try is allowed (at least 1; 1 when the refusal comes from
            other attempts still being checked) when the client's failures or the account's
            attempts are past their limit, else ``None`` (the attempt may go on, also when the
            storage fails).
        """
        in_flight = self._count_in_flight(attempt, 1)
        try:
            yield self._guarded(lambda: self._refusal_wait(attempt, in_flight))
        finally:
            self._count_in_flight(attempt, -1)

    def record_failure(self, attempt: LoginAttempt) -> None:
        """Count a failed login for the client (its account's attempt is already counted)."""
        if self._per_client is not None:
            limit = self._per_client
            self._guarded(lambda: self._limiter.hit(limit, NAMESPACE, "client", attempt.client))

    def record_success(self, attempt: LoginAttempt) -> None:
        """Forget the account's attempts (the client's failures stay counted)."""
        if self._per_account is not None:
            limit = self._per_account
            self._guarded(lambda: self._limiter.clear(limit, NAMESPACE, "account", attempt.account))


def login_attempt(request: Request, username: str) -> LoginAttempt:
    """The attempt's keys: the e-mail as accounts are looked up, the client's IP address.

    ``username`` is at most :data:`app.schemas.token.MAX_USERNAME_LENGTH` characters (the
    login form refuses longer ones), so that keys of the store stay short (case folding can
    lengthen it a little: ``İ`` is two characters in lower case).
    """
    client = request.client.host if request.client else "unknown"
    return LoginAttempt(account=email_key(username), client=client)


def checked_password(throttle: LoginThrottle, attempt: LoginAttempt, check: Callable[[], T]) -> T:
    """Check a password as a login does: admitted by the throttle, its result recorded.

    Every route that checks a password goes through here, so that each guess counts
    against the same limits.

    Args:
        throttle: The application's login throttle.
        attempt: Whose password it is and who sends it (:func:`login_attempt`).
        check: Verifies the password; a false result (``None``, ``False``) is a failure.

    Returns:
        What ``check`` returned.

    Raises:
        HTTPException: 429 with ``Retry-After`` past the limits, before ``check`` runs.
    """
    with throttle.admitted(attempt) as wait:
        if wait is not None:
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                detail=f"Too many failed logins for this account or from this address: "
                f"try again in {wait} seconds.",
                headers={"Retry-After": str(wait)},
            )
        result = check()
        if result:
            throttle.record_success(attempt)
        else:
            throttle.record_failure(attempt)
    return result


async def get_login_throttle(request: Request) -> LoginThrottle:
    """Return the application's login throttle."""
    throttle: LoginThrottle = request.app.state.login_throttle
    return throttle


LoginThrottleDep = Annotated[LoginThrottle, Depends(get_login_throttle)]
