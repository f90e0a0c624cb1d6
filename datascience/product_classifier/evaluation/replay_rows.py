"""Labelled rows to replay through a model, and the class probabilities a pyfunc gives them.

Two sources, both in the challenge's column format: the test split of a dataset folder
(``X_test.csv``, ``y_test.csv``, ``images/``) and an original data folder (``X.csv``, ``y.csv``,
``images/``), which is what the production feedback export writes. A row whose image file is
missing is replayed with its text only, as the API would score it.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from product_classifier.categories import NUM_CATEGORIES, code_to_index
from product_classifier.data.dataset_folder import image_paths, read_split
from product_classifier.data.formats import X_FILE, Y_FILE
from product_classifier.data.original import read_features_and_targets
from product_classifier.scoring.rows import (
    BatchModel,
    missing_input,
    model_reads,
    predict_isolating_bad_rows,
)
from product_classifier.serving.contract import INPUT_COLUMNS

BATCH_SIZE: Final = 256
"""Rows per ``predict`` call."""


@dataclass(frozen=True)
class LabelledRows:
    """Model input rows with their true classes.

    Attributes:
        inputs: The pyfunc input (``product_id``, ``designation``, ``description``,
            ``image_path``; ``""`` when the row has no image file).
        labels: ``(rows,)`` true class indices (0..26).
        source: Where the rows come from, for the reports.
    """

    inputs: pd.DataFrame
    labels: npt.NDArray[np.int32]
    source: str


def _labelled(
    features: pd.DataFrame, targets: "pd.Series[int]", images: list[Path], source: str
) -> LabelledRows:
    inputs = pd.DataFrame(
        {
            "product_id": features["productid"].astype(str).to_numpy(),
            "designation": features["designation"].to_numpy(),
            "description": features["description"].to_numpy(),
            "image_path": [str(path) if path.is_file() else "" for path in images],
        },
        columns=list(INPUT_COLUMNS),
    )
    labels = np.array([code_to_index(int(code)) for code in targets], dtype=np.int32)
    return LabelledRows(inputs, labels, source)


def dataset_test_rows(dataset_dir: Path) -> LabelledRows:
    """The test split of a dataset folder written by ``create_datasets``.

    Raises:
        DatasetError: The split files are missing or invalid.
    """
    features, targets = read_split(dataset_dir, "test")
    images = image_paths(dataset_dir, features)
    return _labelled(features, targets, images, f"test split of {dataset_dir}")


def original_folder_rows(folder: Path, source: str | None = None) -> LabelledRows:
    """Every row of an original data folder (``X.csv``, ``y.csv``, ``images/``).

    Raises:
        DatasetError: The files are missing or invalid.
    """
    features, targets = read_features_and_targets(folder / X_FILE, folder / Y_FILE)
    # Same file names as in dataset folders: images/image_{imageid}_product_{productid}.jpg.
    images = image_paths(folder, features)
    return _labelled(features, targets, images, source or str(folder))


def predict_probabilities(
    model: BatchModel, inputs: pd.DataFrame, batch_size: int = BATCH_SIZE
) -> tuple[npt.NDArray[np.float64], list[str | None]]:
    """Class probabilities of every row, in batches; rows the model refuses are kept apart.

    Args:
        model: A loaded pyfunc model (output: the 27 categories per row, in percent).
        inputs: The pyfunc input rows.
        batch_size: Rows per ``predict`` call.

    Returns:
        ``(probabilities, errors)``: ``(rows, 27)`` probabilities (0..1, class index order; a
        refused row is all zeros) and, per row, ``None`` or why it was refused: by the model,
        or before it for lacking what the model reads
        (:func:`~product_classifier.scoring.rows.missing_input`).
    """
    probabilities = np.zeros((len(inputs), NUM_CATEGORIES))
    reads = model_reads(model)
    # A row without what the model reads (no text for a text model...) is refused, as in
    # catalogue scoring: its uniform answer would count as a prediction.
    errors: list[str | None] = [
        missing_input(*reads, designation, description, image)
        for designation, description, image in zip(
            inputs["designation"], inputs["description"], inputs["image_path"], strict=True
        )
    ]
    readable = [row for row, error in enumerate(errors) if error is None]
    for start in range(0, len(readable), batch_size):
        rows = readable[start : start + batch_size]
        for row, result in zip(
            rows, predict_isolating_bad_rows(model, inputs.iloc[rows]), strict=True
        ):
            if isinstance(result, str):
                errors[row] = result
                continue
            for entry in result:
                column = code_to_index(int(entry["category_id"]))
                probabilities[row, column] = float(entry["probabilities"]) / 100.0
    return probabilities, errors
