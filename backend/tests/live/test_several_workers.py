"""One API served by two uvicorn worker processes: both load the model and follow the alias.

``python -m app.serve --workers 2`` as ``scripts/start.sh`` runs it with ``API_WORKERS=2``
(or ``auto`` on two cores), serving a copy of the session's text model. Each worker loads the
model at start-up (two "Now serving" lines in the log) and none is killed by uvicorn's health
check while it starts. When the alias moves, both workers check the registry on the same tick
(:func:`~app.inference.model_server.seconds_to_next_check`), so both serve the new version at
about the same time, and every answer of ``/models/current`` then says so. The timings are
printed (run with ``-s`` to see them).
"""

import re
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from tests.browser.live_api import ServerSpec, run_live_apis
from tests.conftest import migrated_database
from tests.helpers import models as model_helpers

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

MODEL = "pair"
ALIAS = "production"
WORKERS = 2
RELOAD_INTERVAL_SECONDS = 4.0
LOAD_ALLOWANCE_SECONDS = 120.0
"""Loading a version in two processes at once on a busy 2-core machine."""
API_START_TIMEOUT_SECONDS = 300.0
ANSWERS = 20
"""``/models/current`` answers read once both workers serve the new version (new connections,
so the kernel hands them to either worker)."""
LOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ")


@pytest.fixture(scope="module")
def versions(trained_text: model_helpers.TrainedModels, tracking_uri: str) -> list[str]:
    """Two registered versions of ``pair`` (copies of the text model), the first promoted."""
    source = trained_text.versions["text"][0]
    registered = [
        model_helpers.register_copy(MODEL, "text", source, tracking_uri) for _ in range(2)
    ]
    model_helpers.promote(MODEL, registered[0], ALIAS, tracking_uri)
    return registered


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    with migrated_database("sqlite", "workers") as url:
        yield url


def _log_times(log: str, version: str, event: str) -> list[datetime]:
    """When each worker logged ``event`` (``Loading`` or ``Now serving``) for ``version``."""
    needle = {
        "Loading": f"Loading models:/{MODEL}@{ALIAS} (version {version})",
        "Now serving": f"Now serving {MODEL}@{ALIAS} (version {version})",
    }[event]
    times = []
    for line in log.splitlines():
        found = LOG_TIME.match(line)
        if needle in line and found:
            times.append(datetime.strptime(found[1], "%Y-%m-%d %H:%M:%S,%f"))
    return times


def test_two_workers_load_the_model_and_follow_the_alias_together(
    versions: list[str], database: str, tracking_uri: str, tmp_path: Path
) -> None:
    first, second = versions
    log_path = tmp_path / "api.log"
    spec = ServerSpec(
        environment={
            "SQLALCHEMY_DATABASE_URI": database,
            "MLFLOW_TRACKING_URI": tracking_uri,
            "MODEL_NAME": MODEL,
            "MODEL_ALIAS": ALIAS,
            "MODEL_CHALLENGER_ALIAS": "",
            "MODEL_RELOAD_INTERVAL_SECONDS": str(RELOAD_INTERVAL_SECONDS),
            "LOG_LEVEL": "INFO",
            "STATE_DIR": str(tmp_path / "state"),
        },
        log_path=log_path,
        workers=WORKERS,
        log_level="info",  # uvicorn says when its supervisor replaces a worker
    )
    started = time.monotonic()
    with run_live_apis({"api": spec}, API_START_TIMEOUT_SECONDS) as apis:
        api_url = apis["api"].api_url
        deadline = time.monotonic() + LOAD_ALLOWANCE_SECONDS
        while len(_log_times(log_path.read_text(), first, "Now serving")) < WORKERS:
            assert time.monotonic() < deadline, apis["api"].log_tail()
            time.sleep(0.25)
        print(f"{WORKERS} workers serve version {first} {time.monotonic() - started:.1f} s in")

        promoted = time.monotonic()  # the promotion CLI itself takes seconds
        model_helpers.promote(MODEL, second, ALIAS, tracking_uri)
        deadline = promoted + RELOAD_INTERVAL_SECONDS + LOAD_ALLOWANCE_SECONDS
        while len(_log_times(log_path.read_text(), second, "Now serving")) < WORKERS:
            assert time.monotonic() < deadline, apis["api"].log_tail()
            time.sleep(0.25)
        log = log_path.read_text()
        loads = _log_times(log, second, "Loading")
        gap = (max(loads) - min(loads)).total_seconds()
        print(
            f"both serve version {second} {time.monotonic() - promoted:.1f} s after the "
            f"promotion began; the workers started loading it {gap:.2f} s apart"
        )
        # Same tick: without it, the second worker's check comes up to a whole interval later.
        assert len(loads) == WORKERS
        assert gap < RELOAD_INTERVAL_SECONDS / 2, log

        for _ in range(ANSWERS):
            answer = httpx.get(f"{api_url}/models/current", timeout=10).json()
            assert (answer["version"], answer["alias_target"]["state"]) == (second, "served")
        # No worker was killed and replaced by uvicorn's health check while starting or loading.
        assert "died" not in log, log
        assert len(_log_times(log, first, "Now serving")) == WORKERS, log
