"""One training plan: a generated sample, its dataset, then the text, image and fusion models.

The demo bootstrap (``python -m scripts.bootstrap_demo``) and the model benchmarks run the same
chain; they call :func:`build_generated_dataset` and :func:`train_three_models` instead of the
command-line scripts. Each step is reported to a :class:`StepReporter` (the bootstrap shows them
as numbered steps; the default logs them).
"""

import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol

import keras
from mlflow.tracking import MlflowClient

from product_classifier.data.creation import CreationOptions, create_datasets
from product_classifier.synthetic.generator import write_sample_dataset
from product_classifier.tracking.registry import MODEL_KINDS
from product_classifier.training.checkpoints import RunFiles, TrainingState
from product_classifier.training.defaults import REFIT_BY_DEFAULT
from product_classifier.training.determinism import DEFAULT_SEED
from product_classifier.training.fusion_task import FusionTask
from product_classifier.training.image_task import ImageTask
from product_classifier.training.pipeline import TrainingOptions, TrainingResult, run_training
from product_classifier.training.task import TrainingTask
from product_classifier.training.text_task import TextTask

logger = logging.getLogger(__name__)

DEFAULT_SPLIT_SEED: Final = 42
"""Seed of the train/test split, as ``create_datasets``'s ``--random-state`` default."""


class StepReporter(Protocol):
    """Hears about each step of a plan: started, reused from an earlier run, or done."""

    def step(self, title: str) -> None:
        """A step starts (``title``: e.g. ``"Training the text model"``)."""

    def reused(self, what: str) -> None:
        """The step's result from an earlier run is kept."""

    def done(self, seconds: float) -> None:
        """The step finished after ``seconds`` of wall-clock time."""


class LoggedSteps:
    """The default :class:`StepReporter`: one INFO log line per step."""

    def step(self, title: str) -> None:
        """Log the step's start."""
        logger.info("%s.", title)

    def reused(self, what: str) -> None:
        """Log what is kept."""
        logger.info("Already done: %s.", what)

    def done(self, seconds: float) -> None:
        """Log the step's duration."""
        logger.info("Done in %.0f s.", seconds)


@dataclass(frozen=True)
class TrainingPlan:
    """How to train the three models on one dataset.

    Attributes:
        epochs: Maximum epochs of each training phase of the text and fusion models.
        patience: Epochs without validation improvement before they stop.
        image_epochs: The image model's maximum epochs (default: ``epochs``).
        image_patience: The image model's patience (default: ``patience``).
        batch_size: Rows per batch.
        image_size: Side in pixels of the image model's input.
        weights: Image backbone weights: ``none``, ``imagenet`` or a weights file.
        seed: Seed of the validation split and of every Keras random draw.
        verbose: Keras progress output (1 progress bar, 2 one line per epoch).
        purpose: Logged as the runs' ``plan`` parameter (e.g. ``"demo"``).
    """

    epochs: int
    patience: int
    image_epochs: int | None = None
    image_patience: int | None = None
    batch_size: int = 96
    image_size: int = 64
    weights: str = "none"
    seed: int = DEFAULT_SEED
    verbose: int = 2
    purpose: str = "training plan"

    def schedule(self, kind: str) -> tuple[int, int]:
        """Return the maximum epochs and the early-stopping patience of a model kind."""
        if kind == "image":
            return self.image_epochs or self.epochs, self.image_patience or self.patience
        return self.epochs, self.patience


def build_generated_dataset(
    sample_dir: Path,
    dataset_dir: Path,
    products: int,
    seed: int,
    image_size: int,
    *,
    split_seed: int = DEFAULT_SPLIT_SEED,
    reporter: StepReporter | None = None,
) -> bool:
    """Generate a synthetic sample and split it 80/20 into a dataset folder, unless done.

    Both folders are written atomically, so one that exists is complete and is kept; the
    dataset is made again when the sample was.

    Args:
        sample_dir: Folder of the synthetic sample (original format).
        dataset_dir: Dataset folder made from it.
        products: Products in the sample.
        seed: Seed of the sample.
        image_size: Side in pixels of the dataset's images.
        split_seed: Seed of the train/test split.
        reporter: Hears about the two steps (default: :class:`LoggedSteps`).

    Returns:
        Whether either folder was (re)built, so that every training must run again.

    Raises:
        DatasetError: The sample does not make a valid dataset.
        OutputExistsError: A folder appeared while it was being written.
    """
    reporter = reporter or LoggedSteps()
    rebuilt = False
    reporter.step(f"Generating the synthetic sample ({products} products)")
    if sample_dir.is_dir():
        reporter.reused(str(sample_dir))
    else:
        started = time.monotonic()
        write_sample_dataset(sample_dir, products, seed)
        rebuilt = True
        reporter.done(time.monotonic() - started)

    reporter.step(f"Creating the dataset ({image_size}x{image_size} images)")
    if dataset_dir.is_dir() and not rebuilt:
        reporter.reused(str(dataset_dir))
        return False
    started = time.monotonic()
    create_datasets(
        CreationOptions(
            input_dir=sample_dir,
            output_dir=dataset_dir,
            random_state=split_seed,
            image_size=image_size,
            overwrite=True,
        )
    )
    reporter.done(time.monotonic() - started)
    return True


def finished_training(
    output_dir: Path, registered_model: str, client: MlflowClient | None = None
) -> TrainingResult | None:
    """Return the result of the finished training in ``output_dir``, if the registry has it.

    A training run records its MLflow run and whether it finished in its checkpoint state; the
    version is looked up by that run in the registry, so a version deleted since, or a
    different tracking store, means the training must run again.
    """
    state = TrainingState.load(RunFiles(output_dir).state)
    if state is None or not state.completed:
        return None
    client = client or MlflowClient()
    versions = client.search_model_versions(
        f"name = '{registered_model}' and run_id = '{state.run_id}'"
    )
    if not versions:
        return None
    version = max(int(found.version) for found in versions)
    return TrainingResult(
        kind=state.kind,
        run_id=state.run_id,
        registered_model=registered_model,
        version=version,
        model_uri=f"models:/{registered_model}/{version}",
        metrics=dict(client.get_run(state.run_id).data.metrics),
        output_dir=output_dir,
    )


def _task(kind: str, plan: TrainingPlan, results: dict[str, TrainingResult]) -> TrainingTask:
    """Return the task of a model kind (fusion builds on the text and image results)."""
    if kind == "text":
        return TextTask()
    if kind == "image":
        return ImageTask(image_size=plan.image_size, augmentation=True, weights=plan.weights)
    return FusionTask(
        text_model_uri=results["text"].model_uri, image_model_uri=results["image"].model_uri
    )


def train_three_models(
    dataset_dir: Path,
    output_root: Path,
    plan: TrainingPlan,
    *,
    resume: bool = False,
    reporter: StepReporter | None = None,
) -> dict[str, TrainingResult]:
    """Train text, image, then fusion (over those two) on one dataset and register them.

    Each kind trains in ``output_root/<kind>`` with the training CLIs' defaults (the text model
    refits). With ``resume``, a finished training still in the registry is reused and an
    interrupted one continues from its last checkpoint, until one kind trains again: the kinds
    after it then start afresh (the fusion model must build on the new versions).

    Args:
        dataset_dir: Dataset folder made by ``create_datasets``.
        output_root: Parent of the three training output folders.
        plan: Epochs, sizes and seeds.
        resume: Reuse what an earlier run of the same plan finished (``False``: start afresh).
        reporter: Hears about the three steps (default: :class:`LoggedSteps`).

    Returns:
        The result of each kind, by kind (a reused one with its run's logged metrics).

    Raises:
        TrainingInputError: The dataset cannot train a kind.
        RegistryError: A model the fusion builds on is not in the registry.
    """
    reporter = reporter or LoggedSteps()
    results: dict[str, TrainingResult] = {}
    fresh = not resume
    for kind in MODEL_KINDS:
        reporter.step(f"Training the {kind} model")
        output_dir = output_root / kind
        found = None if fresh else finished_training(output_dir, kind)
        if found is not None:
            results[kind] = found
            reporter.reused(f"{kind} version {found.version} (trained in {output_dir})")
            continue
        if fresh:
            # Checkpoints of a training on older inputs must not be resumed.
            shutil.rmtree(output_dir, ignore_errors=True)
        epochs, patience = plan.schedule(kind)
        options = TrainingOptions(
            input_dir=dataset_dir,
            output_dir=output_dir,
            batch_size=plan.batch_size,
            train_patience=patience,
            epochs=epochs,
            verbose=plan.verbose,
            refit=kind == REFIT_BY_DEFAULT,
            seed=plan.seed,
        )
        params = {"plan": plan.purpose, "epochs": epochs, "train_patience": patience}
        started = time.monotonic()
        results[kind] = run_training(_task(kind, plan, results), options, params)
        # Free the finished training's graphs and memory before the next one.
        keras.backend.clear_session()
        fresh = True
        reporter.done(time.monotonic() - started)
    return results
