"""The training pipeline shared by the three model kinds.

Read the dataset folder and carve the validation rows, let the task featurize them, train in
phases with checkpoints (resuming an interrupted run), score the best model on the test rows,
write and log the reports and figures, log the pyfunc model and register it as a new version.
"""

import logging
import warnings
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import keras
import mlflow
import numpy as np
from mlflow.data.pandas_dataset import from_pandas
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from product_classifier.data.output_folder import describe_os_error
from product_classifier.drift_reference import log_training_data_profile
from product_classifier.settings import get_platform_settings
from product_classifier.tracking.model_logging import log_classifier_model
from product_classifier.tracking.registry import STAGING_ALIAS, set_alias
from product_classifier.tracking.setup import configure_tracking, ensure_experiment
from product_classifier.training.checkpoints import (
    RunFiles,
    TrainingState,
    dataset_digest,
    report_damaged_checkpoint,
    resumable_state,
)
from product_classifier.training.determinism import DEFAULT_SEED, seed_everything
from product_classifier.training.errors import TrainingInputError
from product_classifier.training.evaluation import (
    TRAINING_HISTORY,
    evaluate,
    plot_history,
    write_reports,
)
from product_classifier.training.inputs import (
    balanced_class_weights,
    concatenate,
    encode_labels,
    make_dataset,
    predict,
)
from product_classifier.training.onnx_export import export_onnx
from product_classifier.training.runner import FitSettings, fit_phases, refit_phases
from product_classifier.training.split_data import Rows, SplitData, load_split_data
from product_classifier.training.task import (
    MAIN_VIEW,
    LabelledInputs,
    PreparedTraining,
    TrainingTask,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingOptions:
    """The options every training CLI shares.

    Attributes:
        input_dir: Dataset folder made by ``create_datasets``.
        output_dir: Where checkpoints, logs, reports and the model are written.
        batch_size: Rows per batch.
        train_patience: Epochs without validation-accuracy improvement before a phase stops.
        epochs: Maximum epochs per training phase.
        set_staging: Give the new version the ``staging`` alias.
        registered_model: Registered model receiving the version (default: the kind).
        verbose: Keras progress output (0 silent, 1 progress bar, 2 one line per epoch).
        refit: Once early stopping has chosen the epochs, train a new model on the training
            and validation rows for those epochs and serve it instead of the best checkpoint.
        seed: Seed of the validation split, the batch shuffling and every Keras random draw
            (see :mod:`product_classifier.training.determinism`).
    """

    input_dir: Path
    output_dir: Path
    batch_size: int = 96
    train_patience: int = 10
    epochs: int = 100
    set_staging: bool = False
    registered_model: str | None = None
    verbose: int = 1
    refit: bool = False
    seed: int = DEFAULT_SEED


@dataclass(frozen=True)
class TrainingResult:
    """What a training run produced."""

    kind: str
    run_id: str
    registered_model: str
    version: int
    model_uri: str
    metrics: Mapping[str, float]
    output_dir: Path


def _uses_one_hot_labels(model: Any) -> bool:
    """Tell whether the model's loss wants one-hot labels (categorical, not sparse)."""
    loss = getattr(model, "loss", None)
    if isinstance(loss, str):
        return loss == "categorical_crossentropy"
    return isinstance(loss, keras.losses.CategoricalCrossentropy)


def _log_datasets(data: SplitData) -> None:
    """Log the training, validation and test rows as the run's input datasets."""
    parts = ((data.train, "training"), (data.validation, "validation"), (data.test, "testing"))
    for rows, context in parts:
        split = "test" if context == "testing" else "train"
        with warnings.catch_warnings():
            # MLflow hints that integer ids cannot hold missing values and that a local path
            # matches two equivalent source types: neither matters for a logged dataset.
            warnings.simplefilter("ignore", UserWarning)
            dataset = from_pandas(
                _loggable(rows),
                source=str(data.dataset_dir / f"X_{split}.csv"),
                targets="prdtypecode",
                name=f"{data.dataset_dir.name}-{context}",
            )
            mlflow.log_input(dataset, context=context)


def _loggable(rows: Rows) -> Any:
    """Return the rows as a plain table (object text columns, reset index) for MLflow."""
    frame = rows.frame().reset_index(drop=True)
    for column in ("designation", "description"):
        frame[column] = frame[column].astype(object)
    return frame


def _param_value(value: object) -> str:
    return str(value) if value is not None else ""


def _load_checkpoint(files: RunFiles) -> Any:
    """Load the last checkpoint of an interrupted run, or ``None`` (one warning) when damaged."""
    try:
        return keras.saving.load_model(files.last_checkpoint)
    except (ValueError, OSError, KeyError, zipfile.BadZipFile) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        report_damaged_checkpoint(files.last_checkpoint, reason)
        return None


@contextmanager
def _open_run(state: TrainingState | None, experiment_id: str, kind: str) -> Iterator[Any]:
    """Reopen the interrupted run's MLflow run if the store still has it, else start one."""
    if state is not None:
        try:
            MlflowClient().get_run(state.run_id)
        except MlflowException:
            logger.warning(
                "MLflow run %s is gone: resuming the training in a new run.", state.run_id
            )
        else:
            with mlflow.start_run(run_id=state.run_id) as run:
                yield run
            return
    stamp = datetime.now(tz=UTC).strftime("%Y%m%d-%H%M%S")
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"{kind}-{stamp}") as run:
        yield run


def run_training(
    task: TrainingTask, options: TrainingOptions, params: Mapping[str, object]
) -> TrainingResult:
    """Train, score, log and register one model.

    Args:
        task: The model kind's part.
        options: Common options.
        params: Every CLI argument, logged as run parameters.

    Returns:
        The run, the registered version and the test metrics.

    Raises:
        TrainingInputError: The dataset or another input is missing or invalid.
        RegistryError: A registry operation was asked something that does not exist.
    """
    settings = get_platform_settings()
    configure_tracking(settings)
    seed_everything(options.seed)
    data = load_split_data(options.input_dir, options.seed)
    dataset_dir = data.dataset_dir.resolve()
    files = RunFiles(options.output_dir)
    try:
        options.output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:  # a file on the way, no such place, no permission
        raise TrainingInputError(
            f"Cannot use {options.output_dir} as the output folder: {describe_os_error(error)}."
        ) from error
    digest = dataset_digest(dataset_dir)
    state = resumable_state(files, task.kind, dataset_dir, options.seed, digest=digest)
    resumed_model = _load_checkpoint(files) if state is not None else None
    if resumed_model is None:
        state = None
        files.clear()
    logger.info(
        "%s model: %d training, %d validation and %d test rows from %s.",
        task.kind,
        len(data.train),
        len(data.validation),
        len(data.test),
        dataset_dir,
    )
    prepared = task.prepare(data, files, options.batch_size)
    experiment_id = ensure_experiment(task.kind, settings)
    registered_model = options.registered_model or task.kind

    with _open_run(state, experiment_id, task.kind) as run:
        run_id = run.info.run_id
        extra_params = dict(prepared.params)
        if state is not None:
            logger.info("Resuming from %s (epoch %d).", files.last_checkpoint, state.epoch + 1)
            model = resumed_model
            fresh_run = state.run_id != run_id
            state.run_id = run_id
        else:
            built = prepared.build()
            model = built.model
            state = TrainingState(
                task.kind,
                str(dataset_dir),
                run_id,
                phases=list(built.phases),
                seed=options.seed,
                dataset_digest=digest,
            )
            state.save(files.state)
            fresh_run = True
            extra_params.update(built.params)
        if fresh_run:
            mlflow.set_tags({"model_kind": task.kind, "dataset": str(dataset_dir)})
            all_params = {**params, **extra_params}
            all_params.update(
                seed=options.seed,
                train_rows=len(prepared.train),
                validation_rows=len(prepared.validation),
                test_rows=len(prepared.test_views[MAIN_VIEW]),
            )
            mlflow.log_params({key: _param_value(value) for key, value in all_params.items()})
            _log_datasets(data)
            # The API compares what it predicts with this profile to detect drift.
            log_training_data_profile(data.train.X, data.train.y, data.dataset_dir)

        result = _train_and_register(
            prepared=prepared,
            model=model,
            state=state,
            files=files,
            options=options,
            kind=task.kind,
            registered_model=registered_model,
        )
        state.completed = True
        state.save(files.state)
        return result


def _refit(
    prepared: PreparedTraining,
    rows: LabelledInputs,
    state: TrainingState,
    options: TrainingOptions,
    *,
    one_hot: bool,
) -> Any:
    """Train a new model on ``rows`` (training and validation) for the best epochs found."""
    # Seeded again: the refitted model is the same whether or not the first training resumed.
    seed_everything(options.seed)
    return refit_phases(
        prepared.build().model,
        state,
        setups=prepared.setups,
        train=_training_dataset(prepared, rows, options, one_hot=one_hot),
        verbose=options.verbose,
        class_weight=_class_weight(prepared, rows),
    )


def _class_weight(prepared: PreparedTraining, rows: LabelledInputs) -> dict[int, float] | None:
    """The loss weights of the classes when the task balances them, else ``None``."""
    return balanced_class_weights(rows.labels) if prepared.balance_classes else None


def _training_dataset(
    prepared: PreparedTraining, rows: LabelledInputs, options: TrainingOptions, *, one_hot: bool
) -> Any:
    """Batches of ``rows`` as the model trains on them: reshuffled, with the task's transform."""
    return make_dataset(
        rows.inputs,
        encode_labels(rows.labels, one_hot),
        options.batch_size,
        shuffle=True,
        shuffle_seed=options.seed,
        transform=prepared.train_transform,
    )


def _train_and_register(
    *,
    prepared: PreparedTraining,
    model: Any,
    state: TrainingState,
    files: RunFiles,
    options: TrainingOptions,
    kind: str,
    registered_model: str,
) -> TrainingResult:
    one_hot = _uses_one_hot_labels(model)
    train = _training_dataset(prepared, prepared.train, options, one_hot=one_hot)
    validation = make_dataset(
        prepared.validation.inputs,
        encode_labels(prepared.validation.labels, one_hot),
        options.batch_size,
    )
    best = fit_phases(
        model,
        state,
        setups=prepared.setups,
        train=train,
        validation=validation,
        files=files,
        settings=FitSettings(
            epochs=options.epochs,
            patience=options.train_patience,
            verbose=options.verbose,
            class_weight=_class_weight(prepared, prepared.train),
        ),
    )
    metrics: dict[str, float] = {"epochs_trained": float(state.epoch + 1)}
    if state.best is not None:
        metrics["best_val_accuracy"] = state.best
    trained_rows = prepared.train
    if options.refit:
        trained_rows = LabelledInputs(
            concatenate([prepared.train.inputs, prepared.validation.inputs]),
            np.concatenate([prepared.train.labels, prepared.validation.labels]),
        )
        best = _refit(prepared, trained_rows, state, options, one_hot=one_hot)
        metrics["refit_epochs"] = float(sum(state.best_epochs.values()))
        metrics["refit_rows"] = float(len(trained_rows))
    served = prepared.finalize(best, trained_rows)
    served.save(files.model)
    artifacts: list[Path] = []
    for view, labelled in prepared.test_views.items():
        probabilities = predict(served, labelled.inputs, options.batch_size)
        scores = evaluate(labelled.labels, probabilities)
        prefix = f"test_{view}_" if view != MAIN_VIEW else "test_"
        metrics[f"{prefix}accuracy"] = scores.accuracy
        metrics[f"{prefix}f1_weighted"] = scores.f1_weighted
        if view == MAIN_VIEW:
            title = f"{kind} model, test rows ({len(labelled)})"
            artifacts += write_reports(
                labelled.labels, probabilities, scores, files.output_dir, title
            )
    history_figure = files.output_dir / TRAINING_HISTORY
    if plot_history(files.history, history_figure, f"{kind} model training"):
        artifacts.append(history_figure)
    if files.history.is_file():
        artifacts.append(files.history)
    mlflow.log_metrics(metrics)
    for path in artifacts:
        mlflow.log_artifact(str(path), artifact_path="reports")

    _, version = log_classifier_model(
        config=prepared.serving_config,
        keras_model_path=files.model,
        onnx_model_path=export_onnx(served, files.onnx_model),
        registered_model_name=registered_model,
        featurizer_path=prepared.featurizer_path,
        tags={"model_kind": kind},
    )
    client = MlflowClient()
    client.update_model_version(
        registered_model,
        str(version),
        description=(
            f"{kind} model trained on {state.dataset_dir}: test accuracy "
            f"{metrics['test_accuracy']:.4f}, weighted F1 {metrics['test_f1_weighted']:.4f}."
        ),
    )
    client.set_model_version_tag(registered_model, str(version), "model_kind", kind)
    if options.set_staging:
        set_alias(registered_model, STAGING_ALIAS, version, client)
    logger.info("Registered %s version %d (run %s).", registered_model, version, state.run_id)
    return TrainingResult(
        kind=kind,
        run_id=state.run_id,
        registered_model=registered_model,
        version=version,
        model_uri=f"models:/{registered_model}/{version}",
        metrics=metrics,
        output_dir=files.output_dir,
    )
