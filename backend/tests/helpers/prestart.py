"""Run ``scripts.prestart`` as the API's start-up does, once or as several instances at once."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

BACKEND_DIR = Path(__file__).resolve().parents[2]
PRESTART_TIMEOUT_SECONDS = 300


def run_prestarts_together(database_url: str, instances: int) -> None:
    """Start ``instances`` prestarts on ``database_url`` at once; fail the test unless all pass."""
    env = {**os.environ, "SQLALCHEMY_DATABASE_URI": database_url}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "scripts.prestart"],
            cwd=BACKEND_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(instances)
    ]
    outputs = [process.communicate(timeout=PRESTART_TIMEOUT_SECONDS)[0] for process in processes]
    for number, (process, output) in enumerate(zip(processes, outputs, strict=True)):
        if process.returncode != 0:
            pytest.fail(f"prestart {number + 1}/{instances} failed:\n{output[-3000:]}")
