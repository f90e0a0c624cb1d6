"""Which text and image versions a fusion run builds on, and whether they saw its test rows.

A fusion model is scored on its dataset's test rows. When its frozen text or image model was
trained on another dataset of the same products, some of those test rows may have been that
model's training rows: the fusion scores are then inflated. This module finds each encoder's
training run and dataset, says it in one line, and counts the overlap.
"""

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from product_classifier.data.dataset_folder import read_split
from product_classifier.data.original import DatasetError
from product_classifier.tracking.registry import RegistryError, get_version

logger = logging.getLogger(__name__)

DATASET_TAG = "dataset"
"""Run tag holding the dataset folder a training run read."""


@dataclass(frozen=True)
class EncoderSource:
    """Where a logged text or image model comes from.

    Attributes:
        kind: ``text`` or ``image``.
        uri: Its resolved ``models:/NAME/VERSION`` (or the URI as given for other forms).
        run_id: The training run, when the registry knows it.
        dataset_dir: The dataset folder that run trained on, when recorded.
    """

    kind: str
    uri: str
    run_id: str | None
    dataset_dir: Path | None

    def describe(self) -> str:
        """One phrase: ``models:/text/3 (run 1a2b..., trained on /data/set)``."""
        run = f"run {self.run_id[:8]}..." if self.run_id else "run unknown"
        dataset = f"trained on {self.dataset_dir}" if self.dataset_dir else "dataset unknown"
        return f"{self.uri} ({run}, {dataset})"


def encoder_source(
    kind: str, resolved_uri: str, client: MlflowClient | None = None
) -> EncoderSource:
    """Look up the training run and dataset of a resolved ``models:/NAME/VERSION`` URI."""
    client = client or MlflowClient()
    name, _, version = resolved_uri.removeprefix("models:/").partition("/")
    run_id = None
    dataset_dir = None
    if resolved_uri.startswith("models:/") and version.isdigit():
        try:
            run_id = get_version(name, version, client).run_id
            if run_id:
                tag = client.get_run(run_id).data.tags.get(DATASET_TAG)
                dataset_dir = Path(tag) if tag else None
        except (RegistryError, MlflowException):
            run_id = None
    return EncoderSource(kind, resolved_uri, run_id, dataset_dir)


def _keys(features: pd.DataFrame) -> set[tuple[int, int]]:
    return set(zip(features["productid"], features["imageid"], strict=True))


def count_test_overlap(source: EncoderSource, dataset_dir: Path, test: pd.DataFrame) -> int | None:
    """Count the fusion test rows that were training rows of an encoder.

    Rows are matched on (``productid``, ``imageid``). An encoder trained on the same dataset
    folder never saw its test rows (0).

    Returns:
        The number of overlapping rows, or ``None`` when the encoder's dataset is unknown or
        unreadable.
    """
    if source.dataset_dir is None:
        return None
    if source.dataset_dir.resolve() == Path(dataset_dir).resolve():
        return 0
    try:
        trained_on, _ = read_split(source.dataset_dir, "train")
    except DatasetError:
        return None
    return len(_keys(test) & _keys(trained_on))


def report_encoders(
    sources: list[EncoderSource], dataset_dir: Path, test: pd.DataFrame
) -> dict[str, object]:
    """Say which encoders the fusion builds on; warn when they saw its test rows.

    Args:
        sources: The text and image models' sources.
        dataset_dir: The fusion run's dataset folder.
        test: Its test rows (``productid``, ``imageid``).

    Returns:
        Run parameters: each encoder's dataset and test-row overlap (``-1``: unknown).
    """
    params: dict[str, object] = {}
    dataset_dir = Path(dataset_dir).resolve()
    logger.info("The fusion model builds on %s.", " and ".join(s.describe() for s in sources))
    for source in sources:
        overlap = count_test_overlap(source, dataset_dir, test)
        params[f"{source.kind}_model_dataset"] = str(source.dataset_dir or "")
        params[f"{source.kind}_model_test_overlap_rows"] = -1 if overlap is None else overlap
        flag = f"--{source.kind}-model-uri"
        if overlap is None:
            logger.warning(
                "Cannot tell whether %s saw the fusion test rows (its dataset is unknown or "
                "gone): pin a %s model trained on %s with %s.",
                source.uri,
                source.kind,
                dataset_dir,
                flag,
            )
        elif overlap:
            logger.warning(
                "WARNING: %d of the %d fusion test rows (%.0f%%) were training rows of %s: the "
                "fusion test scores will be inflated. Train a %s model on %s and pin it with %s.",
                overlap,
                len(test),
                100.0 * overlap / max(len(test), 1),
                source.describe(),
                source.kind,
                dataset_dir,
                flag,
            )
        elif source.dataset_dir is not None and source.dataset_dir.resolve() != dataset_dir:
            logger.warning(
                "%s was trained on another dataset (%s) than the fusion model (%s).",
                source.uri,
                source.dataset_dir,
                dataset_dir,
            )
    return params
