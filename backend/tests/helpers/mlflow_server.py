"""Run a real ``mlflow server`` for a test, holding a registered copy of the session's text model.

The server has a SQLite backend store of its own and serves its artifacts (as a deployment's
tracking server does), one worker and no job runner, so that it starts in seconds.
"""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from mlflow.artifacts import download_artifacts
from mlflow.tracking import MlflowClient

from tests.browser.live_api import free_port
from tests.helpers.models import TrainedModels

SERVER_START_TIMEOUT_SECONDS = 300.0


@dataclass(frozen=True)
class TrackingServer:
    """A running ``mlflow server``, the model it holds and that model's versions."""

    url: str
    model: str
    versions: tuple[str, ...]
    source: str
    """Artifact URI of the model the versions were made from (for more versions)."""
    run_id: str

    def client(self) -> MlflowClient:
        """A tracking and registry client of this server."""
        return MlflowClient(tracking_uri=self.url, registry_uri=self.url)


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"mlflow server exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2.0).status_code == httpx.codes.OK:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    pytest.fail(
        f"mlflow server did not answer {url} in {timeout:.0f} s:\n{log.read_text()[-3000:]}"
    )


def _register_versions(
    url: str,
    folder: Path,
    trained_text: TrainedModels,
    *,
    tracking_uri: str,
    model: str,
    alias: str,
    count: int,
) -> TrackingServer:
    """Upload the session's text model to the server and register it ``count`` times."""
    local = download_artifacts(
        artifact_uri=f"models:/text/{trained_text.versions['text'][0]}",
        dst_path=str(folder / "model-download"),
        tracking_uri=tracking_uri,
    )
    client = MlflowClient(tracking_uri=url, registry_uri=url)
    experiment = client.create_experiment(model)
    run = client.create_run(experiment)
    client.log_artifacts(run.info.run_id, local, "model")
    client.set_terminated(run.info.run_id)
    client.create_registered_model(model)
    source = f"{run.info.artifact_uri}/model"
    versions = tuple(
        str(client.create_model_version(model, source, run_id=run.info.run_id).version)
        for _ in range(count)
    )
    client.set_registered_model_alias(model, alias, versions[0])
    return TrackingServer(url, model, versions, source, run.info.run_id)


@contextmanager
def run_tracking_server(
    folder: Path,
    trained_text: TrainedModels,
    tracking_uri: str,
    *,
    model: str,
    alias: str = "production",
    versions: int = 2,
) -> Iterator[TrackingServer]:
    """Start ``mlflow server`` in ``folder`` and register ``versions`` copies of the text model.

    The first version gets ``alias``. The start-up time is printed (``-s`` shows it).
    """
    folder.mkdir(parents=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = folder / "server.log"
    command = [
        str(Path(sys.executable).parent / "mlflow"),
        "server",
        "--backend-store-uri",
        f"sqlite:///{folder / 'mlflow.db'}",
        "--artifacts-destination",
        str(folder / "artifacts"),
        "--serve-artifacts",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        started = time.monotonic()
        _wait_for(f"{url}/health", process, log, SERVER_START_TIMEOUT_SECONDS)
        print(f"\nmlflow server ready in {time.monotonic() - started:.1f} s")
        yield _register_versions(
            url,
            folder,
            trained_text,
            tracking_uri=tracking_uri,
            model=model,
            alias=alias,
            count=versions,
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
