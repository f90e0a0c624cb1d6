"""Shared by the model benchmarks: a throw-away state folder and a generated dataset in it.

Everything goes into a throw-away state folder (its own SQLite MLflow store), never into the
developer's ``var/``. The models are trained by
:func:`product_classifier.training.plan.train_three_models`.
"""

import os
from pathlib import Path

from product_classifier.settings import get_platform_settings
from product_classifier.training.plan import build_generated_dataset


def use_state_dir(state_dir: Path) -> str:
    """Point the settings (and so MLflow) at a private state folder; return the tracking URI."""
    os.environ["STATE_DIR"] = str(state_dir)
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
    get_platform_settings.cache_clear()
    return get_platform_settings().configure_mlflow()


def generated_dataset(work_dir: Path, n_products: int, seed: int, image_size: int) -> Path:
    """Generate ``n_products`` products and split them 80/20 into a dataset folder (or reuse)."""
    dataset = work_dir / f"dataset-{image_size}"
    build_generated_dataset(work_dir / "original", dataset, n_products, seed, image_size)
    return dataset
