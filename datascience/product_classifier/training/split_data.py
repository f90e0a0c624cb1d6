"""Read a dataset folder and carve the validation split out of its training rows.

The validation rows drive early stopping and the choice of the best checkpoint; the test rows
only score the finished model. The split is stratified and seeded, so the text, image and fusion
models trained on one dataset folder with the same ``--seed`` share the same validation rows (the
fusion model then never tunes on rows its encoders were fitted on).
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from product_classifier.categories import code_to_index
from product_classifier.data.dataset_folder import read_split
from product_classifier.data.original import DatasetError, NoRowsError
from product_classifier.training.errors import TrainingInputError

VALIDATION_FRACTION: Final = 0.15
"""Share of each category's training rows held out for validation."""
SPLIT_SEED: Final = 42


@dataclass(frozen=True)
class Rows:
    """Feature rows (``designation``, ``description``, ``productid``, ``imageid``) and codes."""

    X: pd.DataFrame
    y: "pd.Series[int]"

    def __len__(self) -> int:
        return len(self.X)

    @property
    def labels(self) -> npt.NDArray[np.int32]:
        """Model class indices (0..26) of the rows."""
        return np.array([code_to_index(int(code)) for code in self.y], dtype=np.int32)

    def take(self, positions: npt.NDArray[np.intp]) -> "Rows":
        """Return the rows at these positions."""
        return Rows(self.X.iloc[positions], self.y.iloc[positions])

    def with_text(self) -> "Rows":
        """Return the rows that have a designation or a description (not image-only rows)."""
        texts = (
            self.X["designation"].astype(str).str.strip()
            + self.X["description"].astype(str).str.strip()
        )
        return self.take(np.flatnonzero(texts.str.len().to_numpy() > 0))

    def frame(self) -> pd.DataFrame:
        """Features and target in one table (what is logged as an MLflow dataset)."""
        return self.X.assign(prdtypecode=self.y.to_numpy())


@dataclass(frozen=True)
class SplitData:
    """A dataset folder read and split: train (fit), validation (early stopping), test (score)."""

    dataset_dir: Path
    train: Rows
    validation: Rows
    test: Rows


def validation_positions(
    codes: "pd.Series[int]", fraction: float = VALIDATION_FRACTION, seed: int = SPLIT_SEED
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Split row positions per category into (fit, validation), stratified and seeded.

    Every category with at least two rows gives ``round(fraction x rows)`` of them (at least one,
    never all) to validation; single-row categories stay in the fit part.

    Returns:
        Sorted positions of the fit rows and of the validation rows.
    """
    rng = np.random.default_rng(seed)
    values = codes.to_numpy()
    validation: list[int] = []
    for code in sorted(set(values.tolist())):
        positions = np.flatnonzero(values == code)
        if len(positions) < 2:
            continue
        count = min(max(1, round(fraction * len(positions))), len(positions) - 1)
        validation.extend(rng.choice(positions, size=count, replace=False).tolist())
    validation_array = np.array(sorted(validation), dtype=np.intp)
    fit = np.setdiff1d(np.arange(len(values), dtype=np.intp), validation_array)
    return fit, validation_array


def _not_a_dataset(dataset_dir: Path, error: DatasetError) -> TrainingInputError:
    message = " ".join(str(error).split())
    return TrainingInputError(
        f"--input-dir {dataset_dir} is not a dataset folder made by create_datasets: {message}"
    )


def load_split_data(dataset_dir: Path, seed: int = SPLIT_SEED) -> SplitData:
    """Read a dataset folder's train and test splits and carve the validation rows.

    Args:
        dataset_dir: Dataset folder made by ``create_datasets``.
        seed: Seed of the validation split (models trained with the same seed share it).

    Raises:
        TrainingInputError: The folder is missing, malformed, empty, has a single category, or
            is too small to validate.
    """
    dataset_dir = Path(dataset_dir)
    if not dataset_dir.exists():
        raise TrainingInputError(f"--input-dir {dataset_dir} does not exist.")
    if not dataset_dir.is_dir():
        raise TrainingInputError(f"--input-dir {dataset_dir} is not a folder.")
    try:
        train_features, train_y = read_split(dataset_dir, "train")
    except NoRowsError:
        raise TrainingInputError(
            f"The dataset in {dataset_dir} is empty: it has no training rows."
        ) from None
    except DatasetError as error:
        raise _not_a_dataset(dataset_dir, error) from None
    try:
        test_features, test_y = read_split(dataset_dir, "test")
    except NoRowsError:
        raise TrainingInputError(
            f"The dataset in {dataset_dir} has no test rows to score a model: create_datasets "
            "puts a row in test only for categories with two rows or more. Add rows (e.g. "
            "merge this folder with others: merge_original_folders)."
        ) from None
    except DatasetError as error:
        raise _not_a_dataset(dataset_dir, error) from None
    categories = sorted(set(train_y.tolist()))
    if len(categories) < 2:
        raise TrainingInputError(
            f"The dataset in {dataset_dir} trains on a single category ({categories[0]}): a "
            "classifier needs rows of two categories at least."
        )
    train = Rows(train_features, train_y)
    fit, validation = validation_positions(train_y, seed=seed)
    if len(validation) == 0:
        raise TrainingInputError(
            f"The dataset in {dataset_dir} is too small: no category has two training rows "
            "to hold one out for validation."
        )
    return SplitData(
        dataset_dir, train.take(fit), train.take(validation), Rows(test_features, test_y)
    )
