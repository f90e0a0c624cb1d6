"""Fit a Keras model through its training phases with checkpoints, early stopping and logs.

One function for every model kind: what differs (phases, learning rates, which layers train)
comes in as :class:`Phase` set-up functions.
"""

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import keras

from product_classifier.training.callbacks import (
    AtomicCheckpoints,
    MlflowMetrics,
    ResumableEarlyStopping,
    StateWriter,
)
from product_classifier.training.checkpoints import RunFiles, TrainingState

logger = logging.getLogger(__name__)

PhaseSetup = Callable[[Any], None]
"""Prepares a model for a phase: sets which layers train and compiles it."""


@dataclass(frozen=True)
class FitSettings:
    """Limits of a training run.

    Attributes:
        epochs: Maximum epochs of each phase.
        patience: Epochs without validation-accuracy improvement before a phase stops.
        verbose: Keras progress output (0 silent, 1 progress bar, 2 one line per epoch).
        class_weight: Loss weight of each class index (``None``: every row counts the same).
    """

    epochs: int
    patience: int
    verbose: int = 1
    class_weight: Mapping[int, float] | None = None


def _class_weight_dict(class_weight: Mapping[int, float] | None) -> dict[int, float] | None:
    """Keras wants a plain ``dict`` (or nothing)."""
    return dict(class_weight) if class_weight is not None else None


def fit_phases(
    model: Any,
    state: TrainingState,
    *,
    setups: Mapping[str, PhaseSetup | None],
    train: Any,
    validation: Any,
    files: RunFiles,
    settings: FitSettings,
) -> Any:
    """Train ``model`` through ``state.phases``, resuming where ``state`` stands.

    Every phase runs at most ``settings.epochs`` epochs and stops early when the validation
    accuracy has not improved for ``settings.patience`` epochs. The next phase starts from the
    best checkpoint so far.

    Args:
        model: The model (new, or loaded from the last checkpoint when resuming).
        state: Run state, updated and saved after each epoch.
        setups: Set-up function of each phase name (``None``: keep the model's compilation).
        train: Training dataset of ``(features, labels)`` batches.
        validation: Validation dataset.
        files: Where checkpoints and logs go.
        settings: Limits of the run.

    Returns:
        The model of the best checkpoint.
    """
    files.checkpoint_dir.mkdir(parents=True, exist_ok=True)
    for index in range(state.phase, len(state.phases)):
        name = state.phases[index]
        if index != state.phase:
            state.phase = index
            state.phase_start_epoch = state.epoch + 1
            state.phase_best = None
            state.wait = 0
            state.phase_done = False
            state.save(files.state)
        setup = setups[name]
        if setup is not None:
            setup(model)
        first_epoch = state.epoch + 1
        last_epoch = state.phase_start_epoch + settings.epochs
        if not state.phase_done and first_epoch < last_epoch:
            logger.info(
                "Phase %s (%d/%d): epochs %d to at most %d.",
                name,
                index + 1,
                len(state.phases),
                first_epoch + 1,
                last_epoch,
            )
            stopping = ResumableEarlyStopping(settings.patience, state.phase_best, state.wait)
            callbacks = [
                AtomicCheckpoints(files.last_checkpoint, files.best_checkpoint, state.best),
                stopping,
                keras.callbacks.CSVLogger(files.history, append=True),
                keras.callbacks.TensorBoard(files.tensorboard_dir, write_graph=False),
                MlflowMetrics(),
                StateWriter(state, stopping, files.state),
            ]
            model.fit(
                train,
                validation_data=validation,
                initial_epoch=first_epoch,
                epochs=last_epoch,
                callbacks=callbacks,
                verbose=settings.verbose,
                shuffle=False,  # the training dataset reshuffles itself
                class_weight=_class_weight_dict(settings.class_weight),
            )
        state.phase_done = True
        state.save(files.state)
        model = keras.saving.load_model(files.best_checkpoint)
    return model


def refit_phases(
    model: Any,
    state: TrainingState,
    *,
    setups: Mapping[str, PhaseSetup | None],
    train: Any,
    verbose: int,
    class_weight: Mapping[int, float] | None = None,
) -> Any:
    """Train a new ``model`` on more rows for the epochs that gave the best checkpoint.

    Each phase runs ``state.best_epochs[phase]`` epochs without validation, checkpoints or early
    stopping (the number of epochs was chosen on the validation rows, which ``train`` now
    holds); a phase that never improved the best score is skipped, as the best checkpoint did.

    Args:
        model: A new model, as built for the first training.
        state: State of the finished training (its ``best_epochs``).
        setups: Set-up function of each phase name (``None``: keep the model's compilation).
        train: Dataset of ``(features, labels)`` batches: training and validation rows.
        verbose: Keras progress output.
        class_weight: Loss weight of each class index (``None``: every row counts the same).

    Returns:
        The refitted model.
    """
    for name in state.phases:
        epochs = state.best_epochs.get(name, 0)
        if epochs == 0:
            continue
        setup = setups[name]
        if setup is not None:
            setup(model)
        logger.info("Refit, phase %s: %d epochs on training and validation rows.", name, epochs)
        model.fit(
            train,
            epochs=epochs,
            verbose=verbose,
            shuffle=False,
            class_weight=_class_weight_dict(class_weight),
        )
    return model
