"""Dataset folders, the output of ``create_datasets`` and the input of training.

A dataset folder holds ``X_train.csv``, ``y_train.csv``, ``X_test.csv`` and ``y_test.csv`` in the
original column format, ``images/`` with the optimised images (absent for text-only datasets),
``dataset_info.json`` describing how it was made and, when some rows fell in neither split,
``remaining/`` in the original data folder format.
"""

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final, Literal, get_args

import pandas as pd

from product_classifier.data.formats import IMAGES_DIR, X_FILE, Y_FILE
from product_classifier.data.original import (
    DatasetError,
    expected_image_names,
    read_features_and_targets,
)

Split = Literal["train", "test"]
SPLITS: Final[tuple[Split, ...]] = get_args(Split)

INFO_FILE: Final = "dataset_info.json"
REMAINING_DIR: Final = "remaining"
"""Sub-folder (original format) with the rows that fell in neither split."""


def split_file_names(split: Split) -> tuple[str, str]:
    """Return the ``(X, y)`` CSV file names of a split, e.g. ``("X_train.csv", "y_train.csv")``."""
    return (
        X_FILE.replace(".csv", f"_{split}.csv"),
        Y_FILE.replace(".csv", f"_{split}.csv"),
    )


@dataclass(frozen=True)
class DatasetInfo:
    """How a dataset folder was made (saved as ``dataset_info.json``).

    Attributes:
        source: The original data folder it was made from.
        text_only: Whether it was made without images.
        image_size: Side of the square optimised images in pixels (``None`` when text-only).
        train_size: Requested share of rows in the train split.
        test_size: Requested share of rows in the test split.
        random_state: Seed of the split.
        rows: Row count per part: ``train``, ``test``, ``remaining``.
        dropped_missing_images: Rows dropped because their image file was missing.
        unsplit_categories: Category codes too small to be split, kept whole in train.
        mixed: Whether it mixes rows with text, an image or both (``create_datasets --mixed``).
        rows_without_image: Text rows kept without their image (mixed datasets).
        image_only_rows: Rows added from ``image_labels.csv``, without text (mixed datasets).
    """

    source: str
    text_only: bool
    image_size: int | None
    train_size: float
    test_size: float
    random_state: int
    rows: dict[str, int]
    dropped_missing_images: int = 0
    unsplit_categories: list[int] = field(default_factory=list)
    mixed: bool = False
    rows_without_image: int = 0
    image_only_rows: int = 0

    def to_json(self) -> str:
        """Serialise to indented JSON."""
        return json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "DatasetInfo":
        """Parse what :meth:`to_json` wrote."""
        values: dict[str, Any] = json.loads(text)
        return cls(**values)


def read_info(dataset_dir: Path) -> DatasetInfo | None:
    """Return the ``dataset_info.json`` of a dataset folder, or ``None`` when it has none."""
    path = Path(dataset_dir) / INFO_FILE
    if not path.is_file():
        return None
    return DatasetInfo.from_json(path.read_text(encoding="utf-8"))


def read_split(dataset_dir: Path, split: Split) -> tuple[pd.DataFrame, "pd.Series[int]"]:
    """Read one split of a dataset folder.

    Args:
        dataset_dir: A folder written by ``create_datasets``.
        split: ``"train"`` or ``"test"``.

    Returns:
        ``(X, y)``: ``X`` with ``designation``, ``description`` (``""`` when empty), ``productid``
        and ``imageid`` (integers), indexed by the original row index; ``y`` the ``prdtypecode``
        integers in the same order.

    Raises:
        DatasetError: The split files are missing or invalid.
        ValueError: ``split`` is neither ``"train"`` nor ``"test"``.
    """
    if split not in SPLITS:
        raise ValueError(f"Unknown split {split!r}: expected one of {', '.join(SPLITS)}.")
    dataset_dir = Path(dataset_dir)
    if not dataset_dir.is_dir():
        raise DatasetError(f"Dataset folder {dataset_dir} does not exist or is not a folder.")
    x_name, y_name = split_file_names(split)
    return read_features_and_targets(dataset_dir / x_name, dataset_dir / y_name)


def image_paths(dataset_dir: Path, features: pd.DataFrame) -> list[Path]:
    """Return the optimised image path of every row, in row order.

    The paths are not checked: a text-only dataset has no ``images/`` folder, so its paths point
    to files that do not exist (use :func:`has_images` first).

    Args:
        dataset_dir: A folder written by ``create_datasets``.
        features: Rows with ``imageid`` and ``productid`` (e.g. from :func:`read_split`).

    Returns:
        ``dataset_dir/images/image_{imageid}_product_{productid}.jpg`` for each row.
    """
    images_dir = Path(dataset_dir) / IMAGES_DIR
    return [images_dir / name for name in expected_image_names(features)]


def has_images(dataset_dir: Path) -> bool:
    """Tell whether a dataset folder carries images (it is not a text-only dataset)."""
    images_dir = Path(dataset_dir) / IMAGES_DIR
    return images_dir.is_dir() and any(images_dir.iterdir())
