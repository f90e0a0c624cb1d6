"""The API's settings: environment variables first, the repository's ``.env`` as fallback.

:class:`Settings` extends the platform settings (state folder, MLflow, served model, database,
image store), keeps the original project's names and adds the service's own limits. They are
read once per process by :func:`get_settings` and validated by pydantic; outside development the
service refuses to start with a default or short secret.
"""

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Final, Literal, Self

from pydantic import (
    AnyHttpUrl,
    EmailStr,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import NoDecode

from app.core.limits_storage import open_limits_storage
from app.core.secret_key import development_secret_key
from app.core.security import normalize_password
from app.schemas.users import PASSWORD_MIN
from product_classifier.settings import PlatformSettings, check_model_alias, read_settings_or_exit

DEFAULT_SECRET = "changethis"  # noqa: S105 - the placeholder that must never reach production
"""The placeholder secret of ``.env``: accepted in development only."""
MIN_SECRET_KEY_BYTES: Final = 32
"""Shortest ``SECRET_KEY`` outside development: an HS256 key is at least as long as the hash
output, 256 bits (RFC 7518, section 3.2)."""
_LOGIN_LIMIT: Final = re.compile(
    r"(?P<amount>[0-9]+) *(?:/|per) *(?P<multiples>[0-9]+)? *(?P<unit>second|minute|hour|day)s?",
    re.IGNORECASE,
)
_UNIT_SECONDS: Final = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
MAX_LOGIN_WINDOW_SECONDS: Final = 86400
"""Longest window of a login limit: a day (a longer one locks an account out for days)."""


def login_limit_seconds(text: str) -> int | None:
    """The window of a login limit such as ``10 per 15 minutes``, in seconds.

    Args:
        text: One limit in the ``limits`` library's notation.

    Returns:
        The window's length; ``None`` when ``text`` is not one limit of at least one attempt
        in a window of one second to a day (``limits`` alone would read ``0 minutes`` as one
        minute and keep only the first of several limits).
    """
    match = _LOGIN_LIMIT.fullmatch(text.strip())
    if match is None or int(match["amount"]) < 1:
        return None
    multiples = int(match["multiples"] or 1)
    seconds = multiples * _UNIT_SECONDS[match["unit"].lower()]
    return seconds if multiples >= 1 and seconds <= MAX_LOGIN_WINDOW_SECONDS else None


MAX_ACCESS_TOKEN_MINUTES: Final = 10 * 365 * 24 * 60
"""Ten years (5,256,000 minutes): the longest access-token lifetime (far longer ones overflow
the expiry date)."""

_HTTP_URL: Final = TypeAdapter(AnyHttpUrl)


def http_url(value: str, example: str) -> AnyHttpUrl:
    """Parse ``value`` as an ``http://`` or ``https://`` URL.

    Args:
        value: The setting's value.
        example: A valid value, for the error message.

    Raises:
        ValueError: not such a URL (for the settings error line).
    """
    try:
        return _HTTP_URL.validate_python(value)
    except ValidationError:
        raise ValueError(
            f'"{value}" is not an http(s) URL: expected a URL such as {example}.'
        ) from None


TargetEnv = Literal["development", "staging", "production"]


class Settings(PlatformSettings):
    """Everything the API reads from its environment."""

    PROJECT_NAME: str = "Product categorisation API"
    API_V1_STR: str = "/api/v1"
    TARGET_ENV: TargetEnv = "development"
    BACKEND_PORT: int = 8000
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    SECRET_KEY: str = DEFAULT_SECRET
    """Key signing the JWT access tokens (HS256). In development the placeholder (``changethis``
    or empty) stands for a random key made at the first start (:meth:`with_signing_key`)."""
    ACCESS_TOKEN_EXPIRE_MINUTES: int = Field(default=60 * 24 * 8, gt=0, le=MAX_ACCESS_TOKEN_MINUTES)
    """Lifetime of an access token, in minutes: at most 5,256,000 (ten years)."""
    BACKEND_CORS_ORIGINS: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Origins allowed by CORS: a comma-separated list or a JSON list of ``http(s)://host[:port]``
    (kept as browsers send them: lower-case, without default port or trailing ``/``)."""

    FIRST_ADMINUSER: EmailStr = "admin@example.com"
    FIRST_ADMINUSER_PASSWORD: str = DEFAULT_SECRET
    USERS_OPEN_REGISTRATION: bool = False

    DATABASE_TIMEOUT_SECONDS: float = Field(default=5.0, gt=0)
    """PostgreSQL: the most a request waits to connect, for a pooled connection, or on a silent
    network before it is answered 503 with ``Retry-After`` (libpq ``connect_timeout``, at least
    2 s; ``tcp_user_timeout`` and keepalives; SQLAlchemy ``pool_timeout``)."""
    DATABASE_STATEMENT_TIMEOUT_SECONDS: float = Field(default=30.0, gt=0)
    """PostgreSQL: the longest SQL statement (server-side ``statement_timeout``); a statement
    cancelled for it is answered 503."""

    MODEL_RELOAD_INTERVAL_SECONDS: float = Field(default=10.0, gt=0)
    """How often the API asks MLflow where ``MODEL_NAME@MODEL_ALIAS`` points."""
    MODEL_LOAD_RETRY_SECONDS: float = Field(default=300.0, gt=0)
    """How long a version that failed to load is left alone before it is tried again (its
    artifacts may have been unreachable for a while); moving the alias back to it retries at
    once."""
    MODEL_CHALLENGER_ALIAS: str = Field(default="challenger", max_length=255)
    """Alias of the challenger version of ``MODEL_NAME``: when a version holds it, the API loads
    it beside the served one (following it the same way) and predicts every request with it too,
    off the response path, storing its answers linked to the served predictions. Empty: no
    challenger."""
    SHADOW_QUEUE_SIZE: int = Field(default=64, gt=0)
    """Requests waiting for the challenger at most; more are dropped (and counted in
    ``/metrics``) so that the shadow never slows the served predictions down."""
    MAX_UPLOAD_BYTES: int = Field(default=5 * 1024 * 1024, gt=0)
    """Largest image accepted, in bytes (uploaded file or decoded base64)."""
    MAX_IMAGE_PIXELS: int = Field(default=16_000_000, gt=0)
    """Largest image accepted, in pixels (width x height), checked before decoding."""
    MAX_REQUEST_PIXELS: int = Field(default=64_000_000, gt=0)
    """Most decoded pixels of one request, all its images together (a batch of large photos
    is decoded at the model's scale, so this binds only when full-size decoding is needed)."""
    MAX_BATCH_SIZE: int = Field(default=64, gt=0)
    """Most products accepted by one ``POST /predict/batch``."""
    MAX_BATCH_BODY_BYTES: int = Field(default=32 * 1024 * 1024, gt=0)
    """Largest request body accepted by ``POST /predict/batch``."""
    MAX_TEXT_LENGTH: int = Field(default=20_000, gt=0)
    """Longest ``designation`` or ``description`` accepted, in characters."""

    LOGIN_FAILURES_PER_ACCOUNT: str = "10 per 15 minutes"
    """Failed logins allowed per account in a moving window (``limits`` notation, e.g. ``5 per
    minute``); then ``POST /login/access-token`` answers 429 for that account until the window
    moves on. A successful login clears the account's count. Empty: no limit."""
    LOGIN_FAILURES_PER_CLIENT: str = "100 per 15 minutes"
    """Failed logins allowed per client IP address (all accounts together) in a moving
    window; empty: no limit. Behind a proxy, run uvicorn with ``--forwarded-allow-ips`` so
    that the address is the client's."""
    LOGIN_LIMITS_STORAGE_URI: str = "memory://"
    """Where failed logins are counted (``limits`` storage URI): ``memory://`` in each worker
    process, ``redis://host:6379`` shared by every worker and replica."""

    API_WORKER_MEMORY_MB: int = Field(default=400, gt=0)
    """Resident memory planned per API worker process, for ``python -m app.serve --workers
    auto`` (what ``scripts/start.sh`` uses): one worker per two cores, as long as the workers
    fit in half the available memory."""

    MICRO_BATCHING_ENABLED: bool = True
    """Serve concurrent ``/predict/`` and ``/predict/batch`` requests together
    (:mod:`app.api.request_batching`): the requests that arrive while a batch is served share
    the next one: one worker-thread step, one model call, one insert and one commit. A lone
    request is not delayed. On by default: ``benchmarks.bench_api`` measured x1.6-2.3 the
    requests per second of text predictions at 8 and 32 clients on the quiet 2-core machine,
    p95 at 32 clients 70 ms against 281 ms, and 0.3 ms more at 1 client (see the README's
    serving performance section)."""
    MICRO_BATCH_MAX_SIZE: int = Field(default=64, gt=0)
    """Most products in one batch of requests (a request alone with more is served alone)."""
    MICRO_BATCH_MAX_WAIT_MS: float = Field(default=0.0, ge=0)
    """Milliseconds a batch waits for more requests once the previous one is served (0: none;
    batches then form only from requests that arrive while the previous batch is served)."""

    OTEL_EXPORTER_OTLP_ENDPOINT: str = ""
    """OTLP/HTTP collector (e.g. ``http://localhost:4318``); empty: no tracing at all."""
    OTEL_SERVICE_NAME: str = "product-categorisation-api"
    """``service.name`` of the traces."""

    PROMETHEUS_MULTIPROC_DIR: Path | None = None
    """prometheus-client's multiprocess folder, shared by the API's workers: read by
    prometheus-client from the environment only (not from ``.env``), checked here: an existing
    folder this user can write in. Unset: ``python -m app.serve`` makes a temporary one for
    several workers."""

    @field_validator("API_V1_STR")
    @classmethod
    def _check_path_prefix(cls, value: str) -> str:
        # FastAPI's rule for router prefixes.
        if not value.startswith("/") or value.endswith("/"):
            raise ValueError(
                f'"{value}" is not a path prefix: expected a path starting with "/" and not '
                'ending with "/", e.g. /api/v1.'
            )
        return value

    @field_validator("BACKEND_CORS_ORIGINS", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                import json  # noqa: PLC0415 - only for the rare JSON form

                return json.loads(text)
            return [origin.strip() for origin in text.split(",") if origin.strip()]
        return value

    @field_validator("BACKEND_CORS_ORIGINS")
    @classmethod
    def _check_origins(cls, origins: list[str]) -> list[str]:
        checked = []
        for origin in origins:
            url = http_url(origin, "http://localhost:8000")
            if url.path not in (None, "/") or url.query or url.fragment or url.username:
                raise ValueError(
                    f'"{origin}" is not an origin: expected scheme://host[:port] only, such as '
                    "http://localhost:8000 (no path, query or user)."
                )
            # What a browser sends in its Origin header: lower case, no default port, no "/".
            checked.append(str(url).removesuffix("/"))
        return checked

    @field_validator("LOGIN_FAILURES_PER_ACCOUNT", "LOGIN_FAILURES_PER_CLIENT")
    @classmethod
    def _check_login_limit(cls, value: str) -> str:
        value = value.strip()
        if value and login_limit_seconds(value) is None:
            raise ValueError(
                f'"{value}" is not one rate limit of at most a day: expected e.g. "10 per 15 '
                'minutes" (a count from 1, "per", an optional number and second, minute, hour '
                "or day), or empty for no limit."
            )
        return value

    @field_validator("LOGIN_LIMITS_STORAGE_URI")
    @classmethod
    def _check_limits_storage(cls, value: str) -> str:
        try:
            open_limits_storage(value)
        except ValueError as error:
            raise ValueError(
                f'"{value}" is not a usable storage: {error} (expected memory:// or '
                "redis://host:6379)."
            ) from None
        return value

    @field_validator("OTEL_EXPORTER_OTLP_ENDPOINT")
    @classmethod
    def _check_otlp_endpoint(cls, value: str) -> str:
        if value:
            http_url(value, "http://localhost:4318")
        return value

    @field_validator("MODEL_CHALLENGER_ALIAS")
    @classmethod
    def _check_challenger_alias(cls, value: str) -> str:
        return check_model_alias(value, "challenger") if value else value  # empty: no challenger

    @field_validator("PROMETHEUS_MULTIPROC_DIR", mode="before")
    @classmethod
    def _refuse_empty_multiproc_dir(cls, value: object) -> object:
        # prometheus-client takes an empty value as set: its files would land in the cwd.
        if isinstance(value, str) and not value.strip():
            raise ValueError("must not be empty: expected an existing folder, or leave it unset.")
        return value

    @field_validator("PROMETHEUS_MULTIPROC_DIR")
    @classmethod
    def _check_multiproc_dir(cls, value: Path | None) -> Path | None:
        if value is None:
            return value
        if not value.is_dir():
            raise ValueError(
                f'"{value}" is not a folder: expected an existing folder, where prometheus-client '
                "keeps the metrics of every worker (or leave it unset)."
            )
        if not os.access(value, os.W_OK | os.X_OK):
            raise ValueError(f'"{value}": expected a folder this user can write in.')
        return value

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Self:
        if self.TARGET_ENV == "development":
            return self
        target = f"TARGET_ENV={self.TARGET_ENV}"
        for name in ("SECRET_KEY", "FIRST_ADMINUSER_PASSWORD"):
            value = getattr(self, name)
            if value.strip() in (DEFAULT_SECRET, ""):
                raise ValueError(f'{name} is "{value}": set a secret value for {target}.')
        # The secrets themselves are never echoed.
        if len(self.SECRET_KEY.encode()) < MIN_SECRET_KEY_BYTES:
            raise ValueError(
                f"SECRET_KEY is too short for {target}: expected at least "
                f"{MIN_SECRET_KEY_BYTES} bytes (32 ASCII characters; HS256, RFC 7518 section "
                '3.2), e.g. python -c "import secrets; print(secrets.token_urlsafe(32))".'
            )
        if len(normalize_password(self.FIRST_ADMINUSER_PASSWORD)) < PASSWORD_MIN:
            raise ValueError(
                f"FIRST_ADMINUSER_PASSWORD is too short for {target}: expected at least "
                f"{PASSWORD_MIN} characters once NFC-normalised (the API's minimum for "
                "passwords)."
            )
        return self

    @property
    def has_placeholder_secret(self) -> bool:
        """Whether ``SECRET_KEY`` is still the placeholder (``changethis`` or empty)."""
        return self.SECRET_KEY in (DEFAULT_SECRET, "")

    def with_signing_key(self) -> Self:
        """Return settings whose ``SECRET_KEY`` can sign tokens.

        In development a placeholder key is replaced by the random key of
        ``$STATE_DIR/secret_key``, created on first use; any other key is kept as it is.
        """
        if self.TARGET_ENV != "development" or not self.has_placeholder_secret:
            return self
        return self.model_copy(update={"SECRET_KEY": development_secret_key(self.STATE_DIR)})

    @property
    def max_predict_body_bytes(self) -> int:
        """Largest body of a single ``POST /predict/``: one image plus the form overhead."""
        return self.MAX_UPLOAD_BYTES + 64 * 1024

    @property
    def max_request_head_bytes(self) -> int:
        """Largest request line and headers the HTTP server reads (``python -m app.serve``).

        Room for ``designation`` and ``description`` of ``MAX_TEXT_LENGTH`` characters each in
        the query string, even percent-encoded 4-byte characters (12 bytes each), plus 64 KiB
        for the rest: the API's own text limit is the one that answers.
        """
        return 2 * self.MAX_TEXT_LENGTH * 12 + 64 * 1024

    @property
    def model_uri(self) -> str:
        """The registry URI of the served model."""
        return f"models:/{self.MODEL_NAME}@{self.MODEL_ALIAS}"

    @property
    def challenger_uri(self) -> str | None:
        """The challenger's registry URI (``None`` when ``MODEL_CHALLENGER_ALIAS`` is empty)."""
        alias = self.MODEL_CHALLENGER_ALIAS
        return f"models:/{self.MODEL_NAME}@{alias}" if alias else None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process settings, read and validated once.

    Invalid ones end the process with one error line
    (:func:`~product_classifier.settings.read_settings_or_exit`).
    """
    return read_settings_or_exit(Settings)
