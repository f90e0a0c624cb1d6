"""Refuse logins after too many failures, per account and per client address.

Without it, anyone can try passwords at the speed of the server, and each try costs an Argon2
hash (tens of milliseconds of CPU): a flood of wrong passwords both guesses and slows every
other request. Failures are counted with the ``limits`` library's moving window in
``LOGIN_LIMITS_STORAGE_URI``: ``memory://`` counts in each worker process (with ``N`` workers a
client gets up to ``N`` times the limit), ``redis://host:6379`` shares the count between
workers and replicas. A successful login clears its account's count. Once a limit is reached,
the login is refused with 429 and ``Retry-After`` before the password is hashed.

If the storage cannot be reached, logins go on without throttling (logged): an outage of the
counter must not lock everyone out.
"""

import logging
import math
import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from limits import RateLimitItem, parse
from limits.storage import Storage
from limits.strategies import MovingWindowRateLimiter

from app.core.config import Settings
from app.core.emails import email_key
from app.core.limits_storage import open_limits_storage

logger = logging.getLogger(__name__)

NAMESPACE = "login-failures"
"""First part of every counter's key, so that a shared store can hold other counters."""


@dataclass(frozen=True, slots=True)
class LoginAttempt:
    """Who tries to log in: the account's lookup key and the client's address."""

    account: str
    client: str


class LoginThrottle:
    """Counts failed logins and says when the next try is allowed."""

    def __init__(
        self,
        storage: Storage,
        per_account: RateLimitItem | None,
        per_client: RateLimitItem | None,
    ) -> None:
        """Count in ``storage``; a ``None`` limit is not applied.

        Args:
            storage: Where the counts live (``limits.storage.storage_from_string``).
            per_account: Failures allowed per account in the window.
            per_client: Failures allowed per client address in the window.
        """
        self._storage = storage
        self._limiter = MovingWindowRateLimiter(storage)
        self._limits = [
            (limit, kind)
            for limit, kind in ((per_account, "account"), (per_client, "client"))
            if limit is not None
        ]

    @classmethod
    def from_settings(cls, settings: Settings) -> "LoginThrottle":
        """Build from ``LOGIN_FAILURES_PER_ACCOUNT``, ``..._PER_CLIENT`` and the storage URI."""
        return cls(
            open_limits_storage(settings.LOGIN_LIMITS_STORAGE_URI),
            parse(settings.LOGIN_FAILURES_PER_ACCOUNT)
            if settings.LOGIN_FAILURES_PER_ACCOUNT
            else None,
            parse(settings.LOGIN_FAILURES_PER_CLIENT)
            if settings.LOGIN_FAILURES_PER_CLIENT
            else None,
        )

    def _key(self, kind: str, attempt: LoginAttempt) -> str:
        return attempt.account if kind == "account" else attempt.client

    def retry_after(self, attempt: LoginAttempt) -> int | None:
        """Seconds until ``attempt`` may be tried (at least 1), or ``None`` when it may now."""
        waits = []
        try:
            for limit, kind in self._limits:
                key = self._key(kind, attempt)
                if not self._limiter.test(limit, NAMESPACE, kind, key):
                    stats = self._limiter.get_window_stats(limit, NAMESPACE, kind, key)
                    waits.append(max(1, math.ceil(stats.reset_time - time.time())))
        except self._storage.base_exceptions as error:
            logger.warning("Login throttling skipped: its storage failed (%s).", error)
            return None
        return max(waits) if waits else None

    def record_failure(self, attempt: LoginAttempt) -> None:
        """Count one failed login for the account and the client."""
        try:
            for limit, kind in self._limits:
                self._limiter.hit(limit, NAMESPACE, kind, self._key(kind, attempt))
        except self._storage.base_exceptions as error:
            logger.warning("Login failure not counted: its storage failed (%s).", error)

    def record_success(self, attempt: LoginAttempt) -> None:
        """Forget the account's failures (the client's stay counted)."""
        try:
            for limit, kind in self._limits:
                if kind == "account":
                    self._limiter.clear(limit, NAMESPACE, kind, attempt.account)
        except self._storage.base_exceptions as error:
            logger.warning("Login failures not cleared: their storage failed (%s).", error)


def login_attempt(request: Request, username: str) -> LoginAttempt:
    """The attempt's keys: the e-mail as accounts are looked up, the client's IP address."""
    client = request.client.host if request.client else "unknown"
    return LoginAttempt(account=email_key(username), client=client)


def refuse_if_throttled(throttle: LoginThrottle, attempt: LoginAttempt) -> None:
    """Raise the 429 when the attempt's account or client is past its limit.

    Raises:
        HTTPException: 429 with ``Retry-After`` in seconds.
    """
    wait = throttle.retry_after(attempt)
    if wait is not None:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail=f"Too many failed logins for this account or from this address: "
            f"try again in {wait} seconds.",
            headers={"Retry-After": str(wait)},
        )


async def get_login_throttle(request: Request) -> LoginThrottle:
    """Return the application's login throttle."""
    throttle: LoginThrottle = request.app.state.login_throttle
    return throttle


LoginThrottleDep = Annotated[LoginThrottle, Depends(get_login_throttle)]
