"""Run a Python script in a fresh process with a bare environment and read its JSON answer."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any


def run_fresh_python(
    source: str, arguments: list[str], folder: Path, *, isolated: bool = False
) -> Any:
    """Write ``source`` into ``folder``, run it there with this Python and parse its last line.

    The process gets only ``PATH``, a ``HOME`` in ``folder`` and MLflow's telemetry off; with
    ``isolated``, Python's ``-I`` too (no user site, no current folder on ``sys.path``).
    """
    script = folder / "serve.py"
    script.write_text(source)
    completed = subprocess.run(
        [sys.executable, *(["-I"] if isolated else []), str(script), *arguments],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(folder), "MLFLOW_DISABLE_TELEMETRY": "true"},
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])
