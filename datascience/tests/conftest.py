"""Session-wide test settings: keep Keras, matplotlib and MLflow away from $HOME and the repo."""

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_SESSION_HOME = Path(tempfile.mkdtemp(prefix="ds-tests-home-"))
os.environ.setdefault("KERAS_HOME", str(_SESSION_HOME / "keras"))
os.environ.setdefault("MPLCONFIGDIR", str(_SESSION_HOME / "matplotlib"))
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Never write into the developer's real state folder from a test.
os.environ["STATE_DIR"] = str(_SESSION_HOME / "state")
os.environ.pop("MLFLOW_TRACKING_URI", None)

from product_classifier.settings import get_platform_settings  # noqa: E402 - after the env setup
from tests.trained_models import dataset, trained  # noqa: E402, F401 - shared session fixtures


@pytest.fixture(autouse=True, scope="module")
def _restore_mlflow_tracking() -> Iterator[None]:
    """Give every test module the session's tracking store back when it ends.

    ``mlflow.set_tracking_uri`` also writes ``MLFLOW_TRACKING_URI`` into the environment, which
    the platform settings then read: without this, one module's temporary store would leak into
    the next module's training runs.
    """
    previous = os.environ.get("MLFLOW_TRACKING_URI")
    yield
    if previous is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = previous
    get_platform_settings.cache_clear()
    get_platform_settings().configure_mlflow()
