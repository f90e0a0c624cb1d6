"""The demo bootstrap's bookkeeping: its settings, where it writes, what is done, the promotion.

``python -m scripts.bootstrap_demo`` (run by ``scripts/start.sh``) makes sure the registry
serves ``models:/$MODEL_NAME@$MODEL_ALIAS`` on a fresh clone: it generates a synthetic sample,
creates a dataset, trains small text, image and fusion models and promotes the fusion one. This
module holds the parts that do not train: the ``DEMO_*`` settings, the folder layout under
``$STATE_DIR/demo``, which steps an interrupted earlier run has already finished, and the final
aliases. Everything here is idempotent.
"""

import argparse
import fcntl
import json
import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Final

from mlflow.tracking import MlflowClient
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from product_classifier.models.image import MIN_IMAGE_SIZE
from product_classifier.paths import REPOSITORY_ROOT
from product_classifier.tracking.registry import (
    MODEL_KINDS,
    PRODUCTION_ALIAS,
    RegistryError,
    get_version,
    get_version_by_alias,
    set_alias,
)
from scripts.cli_support import (
    MAX_DEMO_IMAGE_SIDE,
    MAX_SAMPLE_PRODUCTS,
    MAX_SEED,
    MIN_DEMO_PRODUCTS,
    backbone_weights,
)

logger = logging.getLogger(__name__)

DEMO_DIR_NAME: Final = "demo"
"""Folder of the bootstrap under ``STATE_DIR``."""
DEMO_MODEL: Final = "fusion"
"""The registered model the bootstrap always promotes to ``production``."""
DENSE_EPOCHS_FACTOR: Final = 4
"""The text and fusion models (dense layers, seconds per epoch) train up to this many times
``DEMO_EPOCHS`` epochs; the image model (a convolutional backbone) trains ``DEMO_EPOCHS``."""
DENSE_PATIENCE: Final = 2
"""Epochs without validation improvement before the text or fusion training stops."""


class DemoSettings(BaseSettings):
    """Size of the demo bootstrap (environment first, the repository's ``.env`` as fallback).

    The defaults keep the whole bootstrap under 10 minutes on 2 CPU cores; tests shrink it.
    """

    model_config = SettingsConfigDict(
        env_file=REPOSITORY_ROOT / ".env", env_file_encoding="utf-8", extra="ignore"
    )

    DEMO_PRODUCTS: int = Field(default=1500, ge=MIN_DEMO_PRODUCTS, le=MAX_SAMPLE_PRODUCTS)
    """Products of the synthetic sample (at least 2 per category, at most 1,000,000)."""
    DEMO_EPOCHS: int = Field(default=3, ge=1)
    """Epochs of the image model; the cheap text and fusion models train up to
    :data:`DENSE_EPOCHS_FACTOR` times as many, with early stopping."""
    DEMO_IMAGE_SIZE: int = Field(default=64, ge=MIN_IMAGE_SIZE, le=MAX_DEMO_IMAGE_SIDE)
    """Side in pixels of the dataset's images and of the image model's input (32 to 1024)."""
    DEMO_IMAGE_WEIGHTS: str = "none"
    """Image backbone weights: ``none`` (random, no download), ``imagenet`` or a weights file
    (relative paths from the repository root)."""
    DEMO_SEED: int = Field(default=42, ge=0, le=MAX_SEED)
    """Seed of the synthetic sample and of the split (0 to 2^32 - 1, what NumPy accepts)."""

    @field_validator("DEMO_IMAGE_WEIGHTS")
    @classmethod
    def _check_weights(cls, value: str) -> str:
        # The rule of --image-weights: the default skips argparse's type check.
        try:
            return backbone_weights(value)
        except argparse.ArgumentTypeError as error:
            raise ValueError(f"{error} (paths from the repository root).") from None


@dataclass(frozen=True)
class DemoRecipe:
    """What the bootstrap builds; a different recipe starts the demo folder afresh."""

    products: int
    epochs: int
    image_size: int
    image_weights: str
    seed: int

    def training_epochs(self, kind: str) -> tuple[int, int]:
        """Return the maximum epochs and the early-stopping patience of a model kind."""
        if kind == "image":
            return self.epochs, self.epochs
        return self.epochs * DENSE_EPOCHS_FACTOR, DENSE_PATIENCE

    def to_json(self) -> str:
        """Return the recipe as JSON text."""
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"


@dataclass(frozen=True)
class DemoLayout:
    """Where the bootstrap writes, under ``$STATE_DIR/demo``."""

    root: Path

    @classmethod
    def for_state_dir(cls, state_dir: Path) -> "DemoLayout":
        """Return the layout of a state folder."""
        return cls(state_dir / DEMO_DIR_NAME)

    @property
    def sample_dir(self) -> Path:
        """The synthetic sample, in the original data format (X.csv, y.csv, images/)."""
        return self.root / "sample"

    @property
    def dataset_dir(self) -> Path:
        """The dataset folder (train/test splits, optimised images)."""
        return self.root / "dataset"

    @property
    def training_root(self) -> Path:
        """Parent of the training output folders."""
        return self.root / "training"

    def training_dir(self, kind: str) -> Path:
        """Output folder (checkpoints, reports, logs) of a model kind's training."""
        return self.training_root / kind

    @property
    def recipe_file(self) -> Path:
        """The recipe the folder's contents were made with."""
        return self.root / "recipe.json"

    @property
    def lock_file(self) -> Path:
        """Held while a bootstrap runs, so that two never write the same folder."""
        return self.root / ".lock"

    def built_folders(self) -> tuple[Path, ...]:
        """Every folder the bootstrap builds, in build order."""
        return (self.sample_dir, self.dataset_dir, self.training_root)

    def prepare(self, recipe: DemoRecipe) -> bool:
        """Keep what an earlier run of the same recipe built, or start afresh.

        Removes the temporary folders an interrupted atomic write can leave behind. Call it
        while holding :meth:`locked`.

        Returns:
            Whether the folder was started afresh (no recipe yet, or a different one).
        """
        self.root.mkdir(parents=True, exist_ok=True)
        for folder in self.built_folders():
            for leftover in self.root.glob(f".{folder.name}.*"):
                logger.info("Removing %s, left by an interrupted run.", leftover)
                shutil.rmtree(leftover, ignore_errors=True)
        try:
            previous = self.recipe_file.read_text(encoding="utf-8")
        except OSError:
            previous = None
        if previous == recipe.to_json():
            return False
        if previous is not None:
            logger.info("The demo settings changed: building the demo folder afresh.")
        for folder in self.built_folders():
            shutil.rmtree(folder, ignore_errors=True)
        self.recipe_file.write_text(recipe.to_json(), encoding="utf-8")
        return True

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the bootstrap lock (waiting, with a log line, while another process holds it)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with self.lock_file.open("a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                logger.warning("Another bootstrap is running on %s: waiting for it.", self.root)
                fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def served_version(name: str, alias: str, client: MlflowClient | None = None) -> int | None:
    """Return the version ``models:/name@alias`` points to, or ``None`` when there is none."""
    try:
        return int(get_version_by_alias(name, alias, client).version)
    except RegistryError:
        return None


def promote(
    versions: dict[str, int],
    model_name: str,
    model_alias: str,
    client: MlflowClient | None = None,
) -> list[str]:
    """Give the demo's fusion version the ``production`` alias, and the served name its alias.

    Args:
        versions: The version the bootstrap registered for each model kind.
        model_name: The registered model the API serves (``MODEL_NAME``).
        model_alias: The alias the API serves (``MODEL_ALIAS``).
        client: MLflow client (a new one by default).

    Returns:
        The ``models:/name@alias`` URIs set, e.g. ``["models:/fusion@production"]``.
    """
    client = client or MlflowClient()
    targets = [(DEMO_MODEL, PRODUCTION_ALIAS, versions[DEMO_MODEL])]
    if model_name in MODEL_KINDS:
        targets.append((model_name, model_alias, versions[model_name]))
    else:
        # A registered model of another name: give it a copy of the demo fusion version.
        source = get_version(DEMO_MODEL, versions[DEMO_MODEL], client)
        copied = client.copy_model_version(f"models:/{source.name}/{source.version}", model_name)
        logger.info("Copied %s version %s to %s.", DEMO_MODEL, source.version, model_name)
        targets.append((model_name, model_alias, int(copied.version)))
    done = []
    for name, alias, version in dict.fromkeys(targets):
        set_alias(name, alias, version, client)
        done.append(f"models:/{name}@{alias}")
    return done
