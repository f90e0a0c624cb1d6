"""Where things live: the repository root and the one git-ignored runtime state folder.

Paths are resolved from the repository root, never from the current directory, so every CLI,
test and service finds the same files wherever it is started from.
"""

from pathlib import Path
from typing import Final

REPOSITORY_ROOT: Final = Path(__file__).resolve().parents[2]
"""Root of the monorepo (the folder holding ``backend/`` and ``datascience/``)."""

DEFAULT_STATE_DIR: Final = REPOSITORY_ROOT / "var"
"""Default runtime state folder: databases, MLflow store and artifacts, datasets, models, logs."""

REAL_SAMPLE_DIR: Final = REPOSITORY_ROOT.parent / "shared" / "data" / "rakuten-sample"
"""The real Rakuten sample shipped beside the repository (tests and benchmarks read it there)."""


def resolve_from_root(path: str | Path) -> Path:
    """Resolve a relative path against the repository root (absolute paths are kept)."""
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else (REPOSITORY_ROOT / candidate).resolve()
