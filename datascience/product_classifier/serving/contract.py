"""The model input/output contract shared by the pyfunc, the API and the tests.

Input (pyfunc signature): a DataFrame with ``product_id`` (optional), ``designation``,
``description`` (may be empty) and ``image_path`` (path to a JPEG, may be empty).
Output: for each row, all 27 categories as ``{"category_id", "probabilities"}``, sorted by
probability (highest first), in percent, summing to 100.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Protocol, TypedDict

import numpy as np
import numpy.typing as npt
import pandas as pd
from PIL import Image

from product_classifier.categories import CATEGORY_CODES

INPUT_COLUMNS: Final = ("product_id", "designation", "description", "image_path")


_CODES: Final = np.asarray(CATEGORY_CODES, dtype=np.int64)


def cell_text(value: object) -> str:
    """A table cell as the models read it: the same rule in serving and catalogue scoring.

    Missing values (``None``, NaN, ``pd.NA``) are ``""``; text is kept as it is; numbers are
    their decimal writing, an integral float without its ``.0`` (``1.0`` → ``"1"``: a whole
    column turned float by one missing value keeps its integers); anything else is its
    ``str()``, stripped. Bytes (a Parquet ``binary`` column) are decoded as UTF-8.

    Raises:
        UnicodeDecodeError: Bytes that are not UTF-8 (never guessed: the text would change).
    """
    if isinstance(value, str):
        return value
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):  # noqa: PLR0124 NaN
        return ""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return str(value).strip()


class CategoryProbability(TypedDict):
    """One entry of a prediction: a category code and its probability in percent."""

    category_id: int
    probabilities: float


Prediction = list[CategoryProbability]
"""The 27 categories of one product, most probable first."""


@dataclass(frozen=True, slots=True)
class ProductInput:
    """One product as the models see it, with its image already decoded (or absent)."""

    designation: str = ""
    description: str = ""
    image: Image.Image | None = None

    @property
    def has_text(self) -> bool:
        """Whether the product has any text to read."""
        return bool(self.designation.strip() or self.description.strip())


class ProductPredictor(Protocol):
    """What the API needs from a loaded model (the unwrapped pyfunc python model)."""

    def predict_products(self, products: Sequence[ProductInput]) -> list[Prediction]:
        """Predict every product in one model call."""
        ...


def probabilities_to_predictions(probabilities: npt.NDArray[np.floating]) -> list[Prediction]:
    """Turn a (rows, 27) softmax matrix into sorted percent predictions, one list per row."""
    rows = np.asarray(probabilities, dtype=np.float64)
    rows = rows / rows.sum(axis=1, keepdims=True) * 100.0
    order = np.argsort(-rows, axis=1, kind="stable")
    # Sorted in numpy and converted to Python numbers in one go: building the 27 entries of a
    # row is then plain dict construction.
    codes: list[list[int]] = _CODES[order].tolist()
    values: list[list[float]] = np.take_along_axis(rows, order, axis=1).tolist()
    return [
        [
            {"category_id": code, "probabilities": value}
            for code, value in zip(row_codes, row_values, strict=True)
        ]
        for row_codes, row_values in zip(codes, values, strict=True)
    ]
