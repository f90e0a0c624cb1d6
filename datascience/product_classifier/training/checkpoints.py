"""Checkpoints of a training run in ``--output-dir`` and the state needed to resume it.

``checkpoints/last.keras`` is saved after every epoch, ``checkpoints/best.keras`` whenever the
validation accuracy improves, and ``checkpoints/state.json`` records where the run stands (phase,
epoch, best score, early-stopping patience used, MLflow run); each is written to a temporary
file renamed into place, so an interruption never leaves half a file. Running the same command
again after an interruption resumes from ``last.keras``; a finished run's checkpoints are
replaced, and a damaged checkpoint (e.g. written by an older version) starts the run over with
one warning line.
"""

import hashlib
import json
import logging
import shutil
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Final

from product_classifier.data.dataset_folder import SPLITS, split_file_names
from product_classifier.training.determinism import DEFAULT_SEED

logger = logging.getLogger(__name__)

CHECKPOINT_DIR: Final = "checkpoints"
LOCK_FILE: Final = ".training.lock"
"""Held by the training using the folder (see :mod:`product_classifier.output_lock`)."""
STATE_VERSION: Final = 2


@dataclass(frozen=True)
class RunFiles:
    """Where a training run writes in its output folder."""

    output_dir: Path

    @property
    def checkpoint_dir(self) -> Path:
        """Folder of the checkpoints and of the resume state."""
        return self.output_dir / CHECKPOINT_DIR

    @property
    def last_checkpoint(self) -> Path:
        """Model after the latest epoch (what a resumed run starts from)."""
        return self.checkpoint_dir / "last.keras"

    @property
    def best_checkpoint(self) -> Path:
        """Model of the epoch with the best validation accuracy so far."""
        return self.checkpoint_dir / "best.keras"

    @property
    def state(self) -> Path:
        """Resume state (JSON)."""
        return self.checkpoint_dir / "state.json"

    @property
    def lock(self) -> Path:
        """Lock file of the folder, present while a training uses it."""
        return self.output_dir / LOCK_FILE

    @property
    def history(self) -> Path:
        """Per-epoch metrics written by the CSV logger."""
        return self.output_dir / "history.csv"

    @property
    def tensorboard_dir(self) -> Path:
        """TensorBoard logs (``tensorboard --logdir`` this folder)."""
        return self.output_dir / "tensorboard"

    @property
    def model(self) -> Path:
        """The finished (served) Keras model."""
        return self.output_dir / "model.keras"

    @property
    def onnx_model(self) -> Path:
        """The finished model exported to ONNX (served without TensorFlow)."""
        return self.output_dir / "model.onnx"

    def clear(self) -> None:
        """Remove what a previous run left (checkpoints, history, TensorBoard logs)."""
        shutil.rmtree(self.checkpoint_dir, ignore_errors=True)
        shutil.rmtree(self.tensorboard_dir, ignore_errors=True)
        self.history.unlink(missing_ok=True)


@dataclass
class TrainingState:
    """Where a training run stands, saved after every epoch.

    Attributes:
        kind: Model kind of the run.
        dataset_dir: Dataset folder it trains on.
        run_id: Its MLflow run.
        phases: Names of its training phases, in order.
        phase: Index of the current phase.
        phase_start_epoch: First (global, 0-based) epoch of the current phase.
        epoch: Last finished epoch (-1 before the first one).
        best: Best validation accuracy so far, over all phases.
        phase_best: Best validation accuracy of the current phase (early stopping).
        wait: Epochs without improvement in the current phase (early stopping).
        phase_done: Whether the current phase has finished.
        best_epochs: Epochs of each phase up to the best checkpoint (a phase that never
            improved on the best score is absent): what a refit trains.
        completed: Whether the whole run (evaluation and registration included) has finished.
        seed: The run's ``--seed`` (a run resumes only with the same seed).
        dataset_digest: :func:`dataset_digest` of the dataset when the run started (a run
            resumes only on the same rows).
    """

    kind: str
    dataset_dir: str
    run_id: str
    phases: list[str] = field(default_factory=list)
    phase: int = 0
    phase_start_epoch: int = 0
    epoch: int = -1
    best: float | None = None
    phase_best: float | None = None
    wait: int = 0
    phase_done: bool = False
    best_epochs: dict[str, int] = field(default_factory=dict)
    completed: bool = False
    seed: int = DEFAULT_SEED
    dataset_digest: str = ""
    version: int = STATE_VERSION

    def save(self, path: Path) -> None:
        """Write the state atomically (a crash never leaves half a file)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")
        temporary.replace(path)

    @classmethod
    def load(cls, path: Path) -> "TrainingState | None":
        """Read a saved state, or ``None`` when there is none or it cannot be read."""
        try:
            values = json.loads(path.read_text(encoding="utf-8"))
            state = cls(**values)
        except (OSError, ValueError, TypeError):
            return None
        return state if state.version == STATE_VERSION else None


def dataset_digest(dataset_dir: Path) -> str:
    """SHA-256 of a dataset folder's split CSV files (the images are not read).

    It changes when the folder is made again from other rows or with other options.
    """
    digest = hashlib.sha256()
    for split in SPLITS:
        for name in split_file_names(split):
            path = Path(dataset_dir) / name
            digest.update(name.encode())
            if path.is_file():
                with path.open("rb") as file:
                    digest.update(hashlib.file_digest(file, "sha256").digest())
    return digest.hexdigest()


def _other_run(
    state: TrainingState, kind: str, dataset_dir: Path, seed: int, digest: str | None
) -> str | None:
    """Why a saved run is not the one asked for (``None``: it is)."""
    if state.kind != kind or Path(state.dataset_dir) != Path(dataset_dir).resolve():
        return f"belong to a {state.kind} run on {state.dataset_dir}"
    if digest is not None and state.dataset_digest != digest:
        return f"belong to a run on other rows of {dataset_dir} (made again since)"
    if state.seed != seed:
        return f"belong to a run with --seed {state.seed}"
    return None


def resumable_state(
    files: RunFiles,
    kind: str,
    dataset_dir: Path,
    seed: int = DEFAULT_SEED,
    *,
    digest: str | None = None,
) -> TrainingState | None:
    """Return the state of an interrupted run of the same kind, dataset and seed, if any.

    With ``digest`` (:func:`dataset_digest` of ``dataset_dir`` now), a run started on other
    rows of the same folder (made again since) is not resumed either.
    """
    state = TrainingState.load(files.state)
    if state is None and files.state.is_file():
        report_damaged_checkpoint(files.state, "unreadable, or written by another version")
    if state is None or not files.last_checkpoint.is_file():
        return None
    if state.completed:
        logger.info("The run in %s has finished: starting a new one.", files.output_dir)
        return None
    reason = _other_run(state, kind, dataset_dir, seed, digest)
    if reason is not None:
        logger.warning("The checkpoints in %s %s: starting a new run.", files.output_dir, reason)
        return None
    if not zipfile.is_zipfile(files.last_checkpoint):
        report_damaged_checkpoint(files.last_checkpoint, "not a complete .keras file")
        return None
    return state


def report_damaged_checkpoint(path: Path, reason: str) -> None:
    """Say, in one line, that a checkpoint cannot be resumed and the run starts over."""
    logger.warning(
        "Cannot resume from %s (%s; an interrupted write?): starting the training over.",
        path,
        reason,
    )
