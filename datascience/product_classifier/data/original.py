"""Read and validate an original data folder (``X.csv``, ``y.csv``, ``images/``).

Every problem is reported as a :class:`DatasetError` whose message names the file and lists the
offending rows or files, so a person can fix the data without reading a stack trace.
"""

import logging
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from product_classifier.categories import is_category_code
from product_classifier.data.formats import (
    FEATURE_COLUMNS,
    ID_COLUMNS,
    IMAGES_DIR,
    TARGET_COLUMN,
    TEXT_COLUMNS,
    X_FILE,
    Y_FILE,
    image_file_name,
)

logger = logging.getLogger(__name__)

MAX_LISTED: Final = 20
"""How many offending rows or files an error message lists before summarising the rest."""


class DatasetError(ValueError):
    """An input or dataset folder is missing something or holds invalid data."""


class NoRowsError(DatasetError):
    """A CSV file holds its header but no row."""


@dataclass(frozen=True)
class OriginalData:
    """A validated original data folder.

    Attributes:
        directory: The folder that was read.
        X: Features, indexed like ``X.csv``: ``designation`` and ``description`` as strings
            (empty when absent), ``productid`` and ``imageid`` as integers.
        y: Category codes (``prdtypecode``), same index as ``X``.
        images_dir: The ``images/`` folder, or ``None`` when it was not required and is absent.
    """

    directory: Path
    X: pd.DataFrame
    y: "pd.Series[int]"
    images_dir: Path | None


def format_items(items: Iterable[object], limit: int = MAX_LISTED) -> str:
    """Join items for an error message, listing at most ``limit`` of them.

    Args:
        items: What to list.
        limit: How many items to show before writing "(and N more)".

    Returns:
        ``"a, b, c"`` or ``"a, b, c (and 12 more)"``.
    """
    values = [str(item) for item in items]
    shown = ", ".join(values[:limit])
    if len(values) > limit:
        shown += f" (and {len(values) - limit} more)"
    return shown


def _csv_options(text_columns: Sequence[str], *, indexed: bool) -> dict[str, Any]:
    """Options of ``pandas.read_csv`` for challenge files: listed columns as text, no NaN."""
    return {
        # False, not None: pandas would silently take the leading fields of a first data line
        # longer than the header as a row index (shifting every column); False reads the
        # columns as named, and the longer line is refused (see _readable_csv).
        "index_col": 0 if indexed else False,
        "dtype": dict.fromkeys(text_columns, str),
        "keep_default_na": False,
    }


@contextmanager
def _readable_csv(path: Path) -> Iterator[None]:
    """Turn the errors of reading ``path`` as CSV into a :class:`DatasetError` naming it."""
    try:
        with warnings.catch_warnings():
            # pandas only warns, and drops the extra fields, of a line longer than the header
            warnings.simplefilter("error", pd.errors.ParserWarning)
            yield
    except pd.errors.ParserWarning:
        raise DatasetError(
            f"Unreadable {path.name}: {path} is not a valid CSV file (a line has more fields "
            "than the header line)."
        ) from None
    except pd.errors.EmptyDataError:
        raise DatasetError(f"Unreadable {path.name}: {path} is empty.") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        raise DatasetError(
            f"Unreadable {path.name}: {path} is not a valid CSV file ({first_line})."
        ) from error


def read_csv_file(path: Path, text_columns: Sequence[str]) -> pd.DataFrame:
    """Read a challenge CSV file (unnamed index first) with every listed column as text.

    Args:
        path: The CSV file.
        text_columns: Columns to read as strings (empty fields become ``""``).

    Returns:
        The table, indexed by its first column.

    Raises:
        DatasetError: The file is missing, empty or not a readable CSV file.
    """
    if not path.is_file():
        raise DatasetError(f"Missing {path.name}: {path} does not exist.")
    with _readable_csv(path):
        table: pd.DataFrame = pd.read_csv(path, **_csv_options(text_columns, indexed=True))
    table.index.name = None
    return table


def read_csv_chunks(
    path: Path, text_columns: Sequence[str], chunk_rows: int, *, indexed: bool = True
) -> Iterator[pd.DataFrame]:
    """Read a CSV file ``chunk_rows`` rows at a time, as :func:`read_csv_file` reads it whole.

    Memory stays bounded by one chunk whatever the size of the file.

    Args:
        path: The CSV file.
        text_columns: Columns to read as strings (empty fields become ``""``).
        chunk_rows: Rows per chunk (the last one may hold fewer).
        indexed: Whether the first column is the unnamed row index of the challenge files.

    Yields:
        Consecutive chunks of the table.

    Raises:
        DatasetError: The file is missing, empty or not a readable CSV file (possibly after
            some chunks were yielded).
    """
    if not path.is_file():
        raise DatasetError(f"Missing {path.name}: {path} does not exist.")
    with (
        _readable_csv(path),
        pd.read_csv(
            path, chunksize=chunk_rows, **_csv_options(text_columns, indexed=indexed)
        ) as reader,
    ):
        for chunk in reader:
            chunk.index.name = None
            yield chunk


def require_columns(
    table: pd.DataFrame, path: Path, expected: Sequence[str], *, indexed: bool = True
) -> None:
    """Raise a :class:`DatasetError` naming the columns of ``expected`` that ``table`` lacks.

    Args:
        table: The table as read (its header at least).
        path: Where it was read from.
        expected: The columns it needs.
        indexed: Whether the file starts with the challenge files' unnamed index column (said
            in the message; a catalogue table has none).
    """
    missing = [column for column in expected if column not in table.columns]
    if missing:
        layout = "an unnamed index column, then " if indexed else "the columns "
        raise DatasetError(
            f"Invalid {path.name}: missing column(s) {format_items(missing)} in {path}. "
            f"Expected {layout}{', '.join(expected)}; "
            f"found {', '.join(map(str, table.columns)) or 'no columns'}."
        )


def _require_valid_index(table: pd.DataFrame, path: Path) -> None:
    """Refuse a row index with an empty or a repeated value (rows must be told apart)."""
    empty = np.flatnonzero(pd.isna(table.index) | (table.index.astype(str).str.strip() == ""))
    if len(empty):
        raise DatasetError(
            f"Invalid {path.name}: {len(empty)} row(s) have no row index (first column) in "
            f"{path}: {format_items([f'data row {row + 1}' for row in empty])}."
        )
    duplicated = table.index[table.index.duplicated()].unique()
    if len(duplicated):
        raise DatasetError(
            f"Invalid {path.name}: {len(duplicated)} duplicated row index value(s) in {path}: "
            f"{format_items(duplicated)}."
        )


def _parse_integers(values: "pd.Series[str]", path: Path, column: str) -> "pd.Series[int]":
    text = values.astype(str).str.strip()
    valid = text.str.fullmatch(r"\d{1,18}")
    if not valid.all():
        bad = [f"row {row} ({value!r})" for row, value in text[~valid].items()]
        raise DatasetError(
            f"Invalid {path.name}: column {column} must hold non-negative integers; "
            f"{len(bad)} row(s) do not: {format_items(bad)}."
        )
    return text.astype("int64")


def read_features(path: Path) -> pd.DataFrame:
    """Read and validate an ``X*.csv`` file.

    Args:
        path: The file.

    Returns:
        The four feature columns: texts as strings (``""`` when empty), ids as ``int64``.

    Raises:
        DatasetError: The file is missing, unreadable, lacks a column, repeats a row index or
            holds a non-integer id.
    """
    table = read_csv_file(path, [*TEXT_COLUMNS, *ID_COLUMNS])
    require_columns(table, path, FEATURE_COLUMNS)
    _require_valid_index(table, path)
    features = pd.DataFrame(index=table.index)
    for column in TEXT_COLUMNS:
        features[column] = table[column].astype(str)
    for column in ID_COLUMNS:
        features[column] = _parse_integers(table[column], path, column)
    return features


def read_targets(path: Path) -> "pd.Series[int]":
    """Read and validate a ``y*.csv`` file.

    Args:
        path: The file.

    Returns:
        The category codes as an ``int64`` series named ``prdtypecode``.

    Raises:
        DatasetError: The file is missing, unreadable, lacks ``prdtypecode``, repeats a row
            index, or holds a value that is not one of the 27 category codes.
    """
    table = read_csv_file(path, [TARGET_COLUMN])
    require_columns(table, path, [TARGET_COLUMN])
    _require_valid_index(table, path)
    text = table[TARGET_COLUMN].astype(str).str.strip()
    numeric = text.str.fullmatch(r"\d{1,9}")
    unknown = ~numeric | ~text.where(numeric, "-1").astype("int64").map(is_category_code)
    if unknown.any():
        bad = [f"row {row} ({value!r})" for row, value in text[unknown].items()]
        raise DatasetError(
            f"Invalid {path.name}: {len(bad)} row(s) have an unknown category code "
            f"({TARGET_COLUMN} must be one of the 27 Rakuten codes): {format_items(bad)}."
        )
    return text.astype("int64").rename(TARGET_COLUMN)


def read_features_and_targets(x_path: Path, y_path: Path) -> tuple[pd.DataFrame, "pd.Series[int]"]:
    """Read an ``X``/``y`` pair of CSV files and check that they describe the same rows.

    Args:
        x_path: The features file (``X.csv``, ``X_train.csv``...).
        y_path: The matching targets file.

    Returns:
        ``(X, y)`` with ``y`` in the row order of ``X``.

    Raises:
        DatasetError: Either file is invalid, they have no rows, or their row indexes differ.
    """
    features = read_features(x_path)
    targets = read_targets(y_path)
    if not features.index.equals(targets.index):
        only_x = features.index.difference(targets.index)
        only_y = targets.index.difference(features.index)
        if len(only_x) or len(only_y):
            details = []
            if len(only_x):
                details.append(f"{len(only_x)} only in {x_path.name}: {format_items(only_x)}")
            if len(only_y):
                details.append(f"{len(only_y)} only in {y_path.name}: {format_items(only_y)}")
            raise DatasetError(
                f"Mismatched {x_path.name} and {y_path.name} in {x_path.parent}: "
                f"their row indexes differ ({'; '.join(details)})."
            )
        targets = targets.reindex(features.index)
    if features.empty:
        raise NoRowsError(f"Invalid {x_path.name}: {x_path} has no rows.")
    return features, targets


def read_original(directory: Path, *, require_images: bool = True) -> OriginalData:
    """Read and validate an original data folder.

    Args:
        directory: Folder holding ``X.csv``, ``y.csv`` and ``images/``.
        require_images: Whether ``images/`` must exist (``False`` for text-only work).

    Returns:
        The validated data. Image files are not checked here: see :func:`find_missing_images`.

    Raises:
        DatasetError: The folder, a file or ``images/`` is missing, or the CSV files are invalid.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise DatasetError(f"Input folder {directory} does not exist or is not a folder.")
    missing = [name for name in (X_FILE, Y_FILE) if not (directory / name).is_file()]
    images_dir: Path | None = directory / IMAGES_DIR
    if not (directory / IMAGES_DIR).is_dir():
        if require_images:
            missing.append(f"{IMAGES_DIR}/")
        images_dir = None
    if missing:
        raise DatasetError(
            f"Invalid input folder {directory}: missing {format_items(missing)} "
            f"(an original data folder holds {X_FILE}, {Y_FILE} and {IMAGES_DIR}/)."
        )
    features, targets = read_features_and_targets(directory / X_FILE, directory / Y_FILE)
    logger.info("Read %d rows from %s", len(features), directory)
    return OriginalData(directory=directory, X=features, y=targets, images_dir=images_dir)


def expected_image_names(features: pd.DataFrame) -> list[str]:
    """Return the image file name of every row of ``features``, in row order."""
    return [
        image_file_name(imageid, productid)
        for imageid, productid in zip(features["imageid"], features["productid"], strict=True)
    ]


def find_missing_images(features: pd.DataFrame, images_dir: Path | None) -> pd.Index:
    """Return the index of the rows whose image file is not in ``images_dir``.

    Args:
        features: Rows with ``imageid`` and ``productid``.
        images_dir: The images folder (``None``: every image is missing).

    Returns:
        Row index values, in row order.
    """
    present = {entry.name for entry in images_dir.iterdir()} if images_dir is not None else set()
    names = expected_image_names(features)
    return features.index[[name not in present for name in names]]


def missing_images_message(
    features: pd.DataFrame, missing: pd.Index, images_dir: Path | None
) -> str:
    """Describe rows whose image file is missing, for an error message.

    Args:
        features: All rows.
        missing: Index of the rows without their image.
        images_dir: Where the images were looked for.

    Returns:
        A message naming the count and listing rows with their expected file names.
    """
    rows = features.loc[missing]
    listed = [
        f"row {row} ({name})"
        for row, name in zip(rows.index, expected_image_names(rows), strict=True)
    ]
    return (
        f"{len(missing)} of {len(features)} rows have no image file in {images_dir}: "
        f"{format_items(listed)}."
    )
