"""Keras callbacks of the training runs: checkpoints, MLflow metrics, early stopping, run state."""

from pathlib import Path
from typing import Any

import keras
import mlflow

from product_classifier.training.checkpoints import TrainingState

MONITOR = "val_accuracy"


def save_atomically(model: Any, path: Path) -> None:
    """Save a Keras model to ``path`` through a temporary file renamed into place.

    An interruption (Ctrl-C, a killed process, a full disk) then leaves the previous file whole
    instead of a truncated one that cannot be loaded.
    """
    temporary = path.with_name(f".{path.stem}.partial{path.suffix}")
    try:
        model.save(temporary, overwrite=True)
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)


class AtomicCheckpoints(keras.callbacks.Callback):  # type: ignore[misc]
    """Save the model after every epoch, and as the best one when validation accuracy improves.

    What ``keras.callbacks.ModelCheckpoint`` does for the two files, each written atomically
    (:func:`save_atomically`). Runs before :class:`StateWriter`, so the saved state never refers
    to a checkpoint that is not on disk.

    Args:
        last: The file saved after every epoch.
        best: The file saved when ``val_accuracy`` exceeds ``best_score``.
        best_score: Best validation accuracy so far (over all phases; ``None``: none yet).
    """

    def __init__(self, last: Path, best: Path, best_score: float | None) -> None:
        super().__init__()
        self._last = last
        self._best = best
        self._best_score = best_score

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Save the last checkpoint, then the best one when the score improved."""
        save_atomically(self.model, self._last)
        score = (logs or {}).get(MONITOR)
        if score is not None and (self._best_score is None or float(score) > self._best_score):
            self._best_score = float(score)
            save_atomically(self.model, self._best)


class MlflowMetrics(keras.callbacks.Callback):  # type: ignore[misc]
    """Log every epoch's metrics (loss, accuracy, validation ones) to the active MLflow run."""

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Log the epoch's metrics with the (global) epoch as step."""
        metrics = {key: float(value) for key, value in (logs or {}).items()}
        if metrics:
            mlflow.log_metrics(metrics, step=epoch)


class ResumableEarlyStopping(keras.callbacks.EarlyStopping):  # type: ignore[misc]
    """Early stopping on validation accuracy that continues the patience of a resumed phase."""

    def __init__(self, patience: int, best: float | None = None, wait: int = 0) -> None:
        super().__init__(monitor=MONITOR, mode="max", patience=patience, verbose=1)
        self._resume_best = best
        self._resume_wait = wait

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Reset as Keras does, then restore the resumed phase's best score and waiting time."""
        super().on_train_begin(logs)
        self.best = self._resume_best
        self.wait = self._resume_wait


class StateWriter(keras.callbacks.Callback):  # type: ignore[misc]
    """Save the run state after each epoch (runs after the checkpoints are written)."""

    def __init__(self, state: TrainingState, stopping: ResumableEarlyStopping, path: Any) -> None:
        super().__init__()
        self._state = state
        self._stopping = stopping
        self._path = path

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Record the finished epoch, the best score and the early-stopping counters."""
        score = (logs or {}).get(MONITOR)
        state = self._state
        state.epoch = epoch
        if score is not None and (state.best is None or float(score) > state.best):
            # Same rule as the best checkpoint: a new best over all phases.
            state.best = float(score)
            state.best_epochs[state.phases[state.phase]] = epoch - state.phase_start_epoch + 1
        best = self._stopping.best
        state.phase_best = None if best is None else float(best)
        state.wait = int(self._stopping.wait)
        state.save(self._path)
