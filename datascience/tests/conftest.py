"""Session-wide test settings: keep Keras, matplotlib and MLflow away from $HOME and the repo."""

import os
import tempfile
from pathlib import Path

_SESSION_HOME = Path(tempfile.mkdtemp(prefix="ds-tests-home-"))
os.environ.setdefault("KERAS_HOME", str(_SESSION_HOME / "keras"))
os.environ.setdefault("MPLCONFIGDIR", str(_SESSION_HOME / "matplotlib"))
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Never write into the developer's real state folder from a test.
os.environ["STATE_DIR"] = str(_SESSION_HOME / "state")
os.environ.pop("MLFLOW_TRACKING_URI", None)
