"""Schema fuzzing: requests generated from the API's own OpenAPI document, on both databases.

schemathesis 4 builds requests for every operation of ``/openapi.json``, valid ones (positive
mode) and invalid ones (negative mode), from a fixed seed, and sends them to the application
(in-process, ASGI) as an administrator. Every answer must not be a 5xx
(``not_a_server_error``), must have a status the document lists for the operation
(``status_code_conformance``) and must match the schema it gives for that status
(``response_schema_conformance``). The administrator is checked after each operation: the API
must never let itself be locked out (the check would restore the account and fail the test).

Run alone, with the figures: ``pytest tests/api/test_schema_fuzz.py -s`` (from backend/).
"""

import contextlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode, checks
from schemathesis.core.result import Err, Ok
from schemathesis.python.asgi import shutdown_lifespans
from sqlalchemy.engine import make_url

from app.db.crud.users import get_user_by_email
from app.db.session import create_db_engine, create_session_factory
from app.main import create_app
from tests.conftest import make_settings, migrated_database, seed_admin

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

SEED: Final = 20261130
EXAMPLES: Final = 35
"""Generated cases per operation and generation mode (fewer when an operation has fewer)."""
MIN_REQUESTS: Final = 1000
CHECKS: Final = [
    checks.not_a_server_error,
    checks.response_schema_conformance,
    checks.status_code_conformance,
]


@dataclass
class FuzzReport:
    """What the fuzzing sent and what came back."""

    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    lockouts: list[str] = field(default_factory=list)

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)

    def summary(self, engine: str) -> str:
        by_class = Counter(f"{status // 100}xx" for status in self.statuses.elements())
        return (
            f"schema fuzzing on {engine}: {self.requests} requests, "
            f"{self.server_errors} 5xx, {len(self.failures)} check failures, "
            f"{len(self.lockouts)} lock-outs; {dict(sorted(by_class.items()))}"
        )


@dataclass(frozen=True)
class FuzzTarget:
    """An application on a database of its own, and its administrator's credentials."""

    app: FastAPI
    engine_name: str
    admin_email: str
    headers: dict[str, str]
    database_url: str


@pytest.fixture
def fuzz_target(database_url, trained_text) -> Iterator[FuzzTarget]:
    """The text model on a fresh database of the session's engine (fuzzing changes rows)."""
    engine_name = make_url(database_url).get_backend_name()
    with migrated_database(engine_name, "fuzz") as url:
        settings = make_settings(
            url, MODEL_NAME="text", MODEL_ALIAS="production", USERS_OPEN_REGISTRATION=True
        )
        admin = seed_admin(url, settings)
        try:
            yield FuzzTarget(create_app(settings), engine_name, admin.email, admin.headers, url)
        finally:
            shutdown_lifespans()  # schemathesis started the application's lifespan


def admin_still_in_charge(target: FuzzTarget) -> bool:
    """Whether the fuzzing administrator can still act; restore the account when not."""
    response = TestClient(target.app).get("/api/v1/users/me", headers=target.headers)
    if response.status_code == 200 and response.json()["is_admin"]:
        return True
    engine = create_db_engine(target.database_url)
    with create_session_factory(engine)() as session:
        admin = get_user_by_email(session, target.admin_email)
        if admin is None:  # the e-mail was changed through PUT /users/me: find it by token
            return False
        admin.is_active = admin.is_admin = True
        session.commit()
    engine.dispose()
    return False


def fuzz(operation: Any, mode: GenerationMode, target: FuzzTarget, report: FuzzReport) -> None:
    """Send the generated cases of one operation in one mode; record every answer."""

    @hypothesis.seed(SEED)
    @hypothesis.settings(
        max_examples=EXAMPLES,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def send(case: Any) -> None:
        response = case.call(headers=target.headers)
        report.requests += 1
        report.statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=target.headers)
        except Exception as failure:
            report.failures.append(f"{operation.label} ({mode.value}): {str(failure)[:600]}")

    # Unsatisfiable: nothing to make invalid (an operation without parameters or body).
    with contextlib.suppress(hypothesis.errors.Unsatisfiable):
        send()


def test_fuzzing_from_the_openapi_document_finds_no_server_error(fuzz_target, capsys):
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_target.app)
    schema.config.generation.update(with_security_parameters=False, deterministic=True)
    report = FuzzReport()
    results = list(schema.get_all_operations())
    assert [result.err() for result in results if isinstance(result, Err)] == []
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) >= 25
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz(operation, mode, fuzz_target, report)
        if not admin_still_in_charge(fuzz_target):
            report.lockouts.append(operation.label)
    with capsys.disabled():
        print(f"\n{report.summary(fuzz_target.engine_name)}")
    assert report.requests >= MIN_REQUESTS
    # Not only refusals: valid requests get through to the routes and the database.
    assert sum(count for status, count in report.statuses.items() if status < 300) >= 100
    assert report.server_errors == 0, report.failures[:5]
    assert report.failures == []
    assert report.lockouts == []
