"""Train real tiny models with the datascience CLIs, into the test session's MLflow store."""

import contextlib
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.helpers.cli import DATASCIENCE_DIR, run_python

N_PRODUCTS = 160
IMAGE_SIZE = 32
SEED = 7


def _env(tracking_uri: str) -> dict[str, str]:
    return {**os.environ, "MLFLOW_TRACKING_URI": tracking_uri, "PYTHONUNBUFFERED": "1"}


def _fail_unless_ok(command: str, returncode: int, output: str, seconds: float) -> None:
    if returncode != 0:
        pytest.fail(f"`{command}` failed ({returncode}) after {seconds:.0f} s:\n{output[-4000:]}")


def run_cli(module: str, *args: str, tracking_uri: str, timeout: float = 300) -> str:
    """Run ``python -m module args`` from datascience/; fail the test with its output."""
    started = time.perf_counter()
    completed = run_python(
        "-m", module, *args, cwd=DATASCIENCE_DIR, env=_env(tracking_uri), timeout=timeout
    )
    output = completed.stdout + completed.stderr
    command = f"python -m {module} {' '.join(args)}"
    _fail_unless_ok(command, completed.returncode, output, time.perf_counter() - started)
    return output


class BackgroundTraining(threading.Thread):
    """Trains the image model, then (once the text model exists) the fusion model.

    Runs while the text-model tests run, so the fusion fixture rarely waits. Failures are
    recorded and reported by :meth:`result` in the test that needs the models.
    """

    def __init__(self, trained: "TrainedModels", tracking_uri: str) -> None:
        super().__init__(name="background-training", daemon=True)
        self.trained = trained
        self.tracking_uri = tracking_uri
        self.text_ready = threading.Event()
        self.error: str | None = None
        self._process: subprocess.Popen[str] | None = None
        self._stopped = threading.Event()

    def _run_cli(self, module: str, *args: str) -> bool:
        if self._stopped.is_set():
            return False
        started = time.perf_counter()
        self._process = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            cwd=DATASCIENCE_DIR,
            env=_env(self.tracking_uri),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        output, _ = self._process.communicate()
        if self._process.returncode != 0 and not self._stopped.is_set():
            self.error = (
                f"`python -m {module} {' '.join(args)}` failed ({self._process.returncode}) "
                f"after {time.perf_counter() - started:.0f} s:\n{output[-4000:]}"
            )
        return self._process.returncode == 0

    def run(self) -> None:
        """Image model first; the fusion model after the text model is registered."""
        trained = self.trained
        image_args = _training_args("image", trained, "--image-size", str(IMAGE_SIZE))
        if not self._run_cli("scripts.train_image_model", *image_args, "--weights", "none"):
            return
        self.text_ready.wait()
        if self._stopped.is_set() or "text" not in trained.versions:
            return
        image_version = _registered("image", trained, self.tracking_uri)
        self._run_cli(
            "scripts.train_fusion_model",
            *_training_args("fusion", trained),
            "--text-model-uri",
            f"models:/text/{trained.versions['text'][0]}",
            "--image-model-uri",
            f"models:/image/{image_version}",
        )

    def result(self, timeout: float = 600) -> None:
        """Wait for both trainings; fail the calling test if one failed."""
        self.join(timeout)
        if self.is_alive():
            pytest.fail(f"The image and fusion trainings did not finish in {timeout:.0f} s")
        if self.error is not None:
            pytest.fail(self.error)

    def stop(self) -> None:
        """Kill the running CLI and skip what remains."""
        self._stopped.set()
        self.text_ready.set()
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
        self.join(30)


@dataclass
class TrainedModels:
    """Where the training data is, which registered versions exist, what still trains."""

    root: Path
    dataset_dir: Path
    original_dir: Path
    versions: dict[str, list[str]] = field(default_factory=dict)
    background: BackgroundTraining | None = None

    def stop(self) -> None:
        """Stop a background training nobody waited for."""
        if self.background is not None:
            self.background.stop()


def latest_version(name: str, tracking_uri: str) -> str:
    """Return the highest registered version of ``name``."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    versions = client.search_model_versions(f"name='{name}'")
    return str(max(int(version.version) for version in versions))


def promote(name: str, version: str, alias: str, tracking_uri: str) -> None:
    """Give ``version`` the ``alias`` with the datascience promotion CLI."""
    run_cli(
        "scripts.promote_model",
        "--name",
        name,
        "--version",
        version,
        "--alias",
        alias,
        tracking_uri=tracking_uri,
    )


def register_copy(name: str, source_name: str, source_version: str, tracking_uri: str) -> str:
    """Register the artifacts of version ``source_version`` of ``source_name`` under ``name``.

    Returns:
        The new version (``name`` is registered first when it does not exist).
    """
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    source = client.get_model_version(source_name, source_version)
    with contextlib.suppress(MlflowException):  # registered by an earlier call
        client.create_registered_model(name)
    created = client.create_model_version(name, str(source.source), run_id=source.run_id)
    return str(created.version)


def _training_args(kind: str, trained: TrainedModels, *extra: str) -> tuple[str, ...]:
    return (
        "--input-dir",
        str(trained.dataset_dir),
        "--output-dir",
        str(trained.root / kind),
        "--epochs",
        "1",
        *extra,
    )


def _registered(kind: str, trained: TrainedModels, tracking_uri: str) -> str:
    version = latest_version(kind, tracking_uri)
    trained.versions.setdefault(kind, []).append(version)
    return version


def create_store(tracking_uri: str) -> None:
    """Create the MLflow tables once, before several CLIs open the store at the same time."""
    from mlflow.tracking import MlflowClient

    MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri).search_experiments()


def train_text(root: Path, tracking_uri: str) -> TrainedModels:
    """Generate the sample, create the dataset, train the text model, promote it.

    The image model trains in the background meanwhile, then the fusion model over both
    (:class:`BackgroundTraining`), for the fusion fixture to wait for only if a test needs it.
    """
    trained = TrainedModels(root=root, dataset_dir=root / "dataset", original_dir=root / "original")
    create_store(tracking_uri)
    run_cli(
        "scripts.make_sample_dataset",
        "--output-dir",
        str(trained.original_dir),
        "--n-products",
        str(N_PRODUCTS),
        "--seed",
        str(SEED),
        "--workers",
        "1",
        tracking_uri=tracking_uri,
    )
    run_cli(
        "scripts.create_datasets",
        "--input-dir",
        str(trained.original_dir),
        "--output-dir",
        str(trained.dataset_dir),
        "--train-size",
        "0.8",
        "--test-size",
        "0.2",
        "--image-size",
        str(IMAGE_SIZE),
        "--workers",
        "1",
        tracking_uri=tracking_uri,
    )
    trained.background = BackgroundTraining(trained, tracking_uri)
    trained.background.start()
    try:
        run_cli(
            "scripts.train_text_model", *_training_args("text", trained), tracking_uri=tracking_uri
        )
        promote("text", _registered("text", trained, tracking_uri), "production", tracking_uri)
    except BaseException:
        trained.stop()
        raise
    trained.background.text_ready.set()
    return trained


def train_image_and_fusion(trained: TrainedModels, tracking_uri: str) -> TrainedModels:
    """Wait for the background image and fusion trainings, then promote fusion."""
    if trained.background is None:
        raise RuntimeError("train_text() did not start the background training")
    trained.background.result()
    promote("fusion", _registered("fusion", trained, tracking_uri), "production", tracking_uri)
    return trained
