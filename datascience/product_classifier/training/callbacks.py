"""Keras callbacks of the training runs: MLflow metrics, resumable early stopping, run state."""

from typing import Any

import keras
import mlflow

from product_classifier.training.checkpoints import TrainingState

MONITOR = "val_accuracy"


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
