"""Score one batch of model rows through the model's pyfunc interface, isolating bad rows.

The whole batch goes to the model in one ``predict`` call. When the model refuses it (an
``MlflowException``: the pyfunc's way of saying that some input is invalid, such as an image
that cannot be decoded), the batch is split in halves until the rows it refuses are alone:
they get the model's message as their error and every other row is still scored. The cost is
a few extra calls per bad row, and nothing when the batch is clean.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Protocol

import pandas as pd
from mlflow.exceptions import MlflowException

from product_classifier.scoring.columns import (
    DESCRIPTION,
    DESIGNATION,
    ERROR,
    IMAGE,
    MODEL_NAME,
    MODEL_VERSION,
    PRODUCT_ID,
    SCORED_AT,
    category_column,
    probability_column,
)
from product_classifier.scoring.images import located_images
from product_classifier.serving.contract import Prediction


class BatchModel(Protocol):
    """What the scorer needs from a loaded model: ``mlflow.pyfunc.PyFuncModel.predict``."""

    def predict(self, data: pd.DataFrame) -> Any:
        """Return one prediction (27 categories, highest first) per row of ``data``."""
        ...


@dataclass(frozen=True)
class ScoringSettings:
    """What every output row records about how it was scored.

    Attributes:
        top_k: Categories kept per row.
        model_name: Registered model name (or the model URI).
        model_version: Registered version (``None`` for an unregistered model).
    """

    top_k: int
    model_name: str
    model_version: str | None


NO_TEXT: Final = "no text (the model reads only the title and description)"
NO_IMAGE: Final = "no image (the model reads only the image)"


def model_reads(model: BatchModel) -> tuple[bool, bool]:
    """Whether the model reads text and whether it reads images (both for a foreign model).

    Read from the configuration of this project's pyfunc
    (:class:`~product_classifier.serving.pyfunc.ServingConfig`); a model logged otherwise is
    assumed to read both.
    """
    try:
        config = model.unwrap_python_model().config  # type: ignore[attr-defined]
    except (AttributeError, MlflowException):
        return True, True
    return bool(getattr(config, "reads_text", True)), bool(getattr(config, "reads_image", True))


def missing_input(
    reads_text: bool, reads_image: bool, designation: str, description: str, image: str
) -> str | None:
    """Why a model cannot read a row (:data:`NO_TEXT`, :data:`NO_IMAGE`), or ``None``.

    A text model given no text, or an image model no image, would answer the uniform
    100/27 % for each category: such a row gets no made-up answer.
    """
    if not reads_image and not (designation.strip() or description.strip()):
        return NO_TEXT
    if not reads_text and not image:
        return NO_IMAGE
    return None


def predict_isolating_bad_rows(model: BatchModel, frame: pd.DataFrame) -> list[Prediction | str]:
    """Predict every row; a row the model refuses gets the model's message instead.

    Args:
        model: A loaded pyfunc model.
        frame: Model input rows (``product_id``, ``designation``, ``description``,
            ``image_path``).

    Returns:
        Per row, its prediction or the reason it was refused.
    """
    if frame.empty:
        return []
    try:
        return list(model.predict(frame))
    except MlflowException as error:
        if len(frame) == 1:
            return [str(error.message).strip().splitlines()[0]]
    middle = len(frame) // 2
    return predict_isolating_bad_rows(model, frame.iloc[:middle]) + predict_isolating_bad_rows(
        model, frame.iloc[middle:]
    )


def _output_frame(
    rows: pd.DataFrame,
    results: Sequence[Prediction | str | None],
    settings: ScoringSettings,
    scored_at: datetime,
) -> pd.DataFrame:
    columns: dict[str, Any] = {PRODUCT_ID: rows[PRODUCT_ID].tolist()}
    predictions = [result if isinstance(result, list) else None for result in results]
    for rank in range(1, settings.top_k + 1):
        columns[category_column(rank)] = [
            None if prediction is None else int(prediction[rank - 1]["category_id"])
            for prediction in predictions
        ]
        columns[probability_column(rank)] = [
            None if prediction is None else float(prediction[rank - 1]["probabilities"])
            for prediction in predictions
        ]
    columns[MODEL_NAME] = [settings.model_name] * len(rows)
    columns[MODEL_VERSION] = [settings.model_version] * len(rows)
    columns[SCORED_AT] = [scored_at] * len(rows)
    columns[ERROR] = [result if isinstance(result, str) else None for result in results]
    frame = pd.DataFrame({name: pd.Series(value, dtype=object) for name, value in columns.items()})
    return _typed(frame, settings.top_k)


def _typed(frame: pd.DataFrame, top_k: int) -> pd.DataFrame:
    """Give the columns the output dtypes (nullable integers, UTC timestamps)."""
    for rank in range(1, top_k + 1):
        frame[category_column(rank)] = frame[category_column(rank)].astype("Int64")
        frame[probability_column(rank)] = frame[probability_column(rank)].astype("float64")
    frame[SCORED_AT] = pd.to_datetime(frame[SCORED_AT], utc=True).astype("datetime64[us, UTC]")
    return frame


def score_rows(
    model: BatchModel,
    rows: pd.DataFrame,
    settings: ScoringSettings,
    scored_at: datetime | None = None,
) -> pd.DataFrame:
    """Score model rows (from :func:`product_classifier.scoring.catalogue.model_rows`).

    Rows that already carry an error, that lack what the model reads (no text for a text
    model: :data:`NO_TEXT`; no image for an image model: :data:`NO_IMAGE`), whose image cannot
    be found or fetched, or that the model refuses are written with their error and no
    categories; the others are predicted in one model call. A model that reads no image
    ignores the image column (nothing is fetched).

    Args:
        model: A loaded pyfunc model.
        rows: Columns ``productid``, ``designation``, ``description``, ``image``, ``error``.
        settings: Top-k and the model's name and version.
        scored_at: Time recorded in every row (default: now, UTC).

    Returns:
        The output rows (see :mod:`product_classifier.scoring.columns`), in input order.
    """
    scored_at = scored_at or datetime.now(UTC)
    results: list[Prediction | str | None] = [
        value if isinstance(value, str) else None for value in rows[ERROR].tolist()
    ]
    reads_text, reads_image = model_reads(model)
    # A model that reads no image neither fetches nor checks them; a row without what the
    # model reads gets no made-up answer (it would be the uniform 100/27 % each).
    images = rows[IMAGE].tolist() if reads_image else [""] * len(rows)
    for row, (designation, description) in enumerate(
        zip(rows[DESIGNATION].tolist(), rows[DESCRIPTION].tolist(), strict=True)
    ):
        if results[row] is None:
            results[row] = missing_input(
                reads_text, reads_image, designation, description, images[row]
            )
    with located_images(images) as lookups:
        for row, lookup in enumerate(lookups):
            if results[row] is None and lookup.error is not None:
                results[row] = lookup.error
        pending = [row for row, result in enumerate(results) if result is None]
        frame = pd.DataFrame(
            {
                "product_id": rows[PRODUCT_ID].iloc[pending].tolist(),
                "designation": rows[DESIGNATION].iloc[pending].tolist(),
                "description": rows[DESCRIPTION].iloc[pending].tolist(),
                "image_path": [lookups[row].path for row in pending],
            }
        )
        for row, result in zip(pending, predict_isolating_bad_rows(model, frame), strict=True):
            results[row] = result
    return _output_frame(rows, results, settings, scored_at)
