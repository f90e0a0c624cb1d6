"""Run a Python command line in a child process, from the folder a person runs it from."""

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from product_classifier.paths import REPOSITORY_ROOT

BACKEND_DIR = REPOSITORY_ROOT / "backend"
DATASCIENCE_DIR = REPOSITORY_ROOT / "datascience"


def run_python(
    *args: str,
    cwd: Path = BACKEND_DIR,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run ``python ARGS`` (e.g. ``-m scripts.prestart --check``) and capture its output.

    Args:
        args: The interpreter's arguments: ``-m MODULE ...`` or ``-c CODE ...``.
        cwd: Working folder (default: ``backend/``, where ``python -m app...`` runs).
        env: Variables set on top of the test session's environment.
        timeout: Seconds before :class:`subprocess.TimeoutExpired` is raised.

    Returns:
        The finished process (a non-zero exit status is the caller's to assert).
    """
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
