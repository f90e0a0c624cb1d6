"""Shared by the model benchmarks: a generated dataset and three models trained on it.

Everything goes into a throw-away state folder (its own SQLite MLflow store), never into the
developer's ``var/``.
"""

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from product_classifier.data.creation import CreationOptions, create_datasets
from product_classifier.data.sample_generator import write_sample_dataset
from product_classifier.settings import get_platform_settings
from product_classifier.training.cli import REFIT_BY_DEFAULT
from product_classifier.training.fusion_task import FusionTask
from product_classifier.training.image_task import ImageTask
from product_classifier.training.pipeline import TrainingOptions, TrainingResult, run_training
from product_classifier.training.text_task import TextTask

logger = logging.getLogger(__name__)


def use_state_dir(state_dir: Path) -> str:
    """Point the settings (and so MLflow) at a private state folder; return the tracking URI."""
    os.environ["STATE_DIR"] = str(state_dir)
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
    get_platform_settings.cache_clear()
    return get_platform_settings().configure_mlflow()


def generated_dataset(work_dir: Path, n_products: int, seed: int, image_size: int) -> Path:
    """Generate ``n_products`` products and split them 80/20 into a dataset folder."""
    original = work_dir / "original"
    dataset = work_dir / f"dataset-{image_size}"
    if not dataset.is_dir():
        if not original.is_dir():
            write_sample_dataset(original, n_products, seed)
        create_datasets(
            CreationOptions(
                input_dir=original,
                output_dir=dataset,
                train_size=0.8,
                test_size=0.2,
                image_size=image_size,
            )
        )
    return dataset


@dataclass(frozen=True)
class TrainingPlan:
    """How hard to train the three models."""

    epochs: int
    patience: int
    batch_size: int = 96
    image_size: int = 64
    weights: str = "none"


def train_three_models(
    dataset: Path, output_dir: Path, plan: TrainingPlan
) -> dict[str, TrainingResult]:
    """Train text, image, then fusion (over those two) on one dataset; return their results."""
    results: dict[str, TrainingResult] = {}

    def train(kind: str, task: TextTask | ImageTask | FusionTask) -> None:
        options = TrainingOptions(
            input_dir=dataset,
            output_dir=output_dir / kind,
            batch_size=plan.batch_size,
            train_patience=plan.patience,
            epochs=plan.epochs,
            verbose=2,
            refit=kind == REFIT_BY_DEFAULT,  # as the training CLIs do by default
        )
        params = {
            "benchmark": "generated sample",
            "epochs": plan.epochs,
            "train_patience": plan.patience,
        }
        logger.info("Training the %s model.", kind)
        results[kind] = run_training(task, options, params)

    train("text", TextTask())
    train("image", ImageTask(image_size=plan.image_size, augmentation=True, weights=plan.weights))
    train(
        "fusion",
        FusionTask(
            text_model_uri=results["text"].model_uri, image_model_uri=results["image"].model_uri
        ),
    )
    return results
