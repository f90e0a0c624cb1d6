"""Labelled images without a text row: ``image_labels.csv`` of an original data folder.

Some data folders (the real Rakuten sample among them) hold more labelled images than ``X.csv``
has rows: ``image_labels.csv`` gives each image's ``productid``, ``imageid`` and
``prdtypecode``. A mixed dataset adds the images whose product has no ``X.csv`` row as
image-only rows (empty ``designation`` and ``description``), which the image and fusion models
train on.
"""

import logging
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd

from product_classifier.categories import is_category_code
from product_classifier.data.formats import FEATURE_COLUMNS, TARGET_COLUMN, image_file_name
from product_classifier.data.original import DatasetError, format_items

logger = logging.getLogger(__name__)

IMAGE_LABELS_FILE: Final = "image_labels.csv"
REQUIRED_COLUMNS: Final = ("productid", "imageid", TARGET_COLUMN)


def _integers(table: pd.DataFrame, column: str, path: Path) -> "pd.Series[int]":
    text = table[column].astype(str).str.strip()
    valid = text.str.fullmatch(r"\d{1,18}")
    if not valid.all():
        # Row r of the table (file order) is on line r + 2 of the file (the header is line 1).
        rows = np.flatnonzero(~valid.to_numpy(dtype=bool))
        bad = [f"line {row + 2} ({value!r})" for row, value in zip(rows, text[~valid], strict=True)]
        raise DatasetError(
            f"Invalid {path.name}: column {column} must hold non-negative integers; "
            f"{len(bad)} row(s) do not: {format_items(bad)}."
        )
    return text.astype("int64")


def read_image_labels(path: Path) -> pd.DataFrame:
    """Read and validate an ``image_labels.csv`` file.

    Args:
        path: The file (a header line, then one image per line; extra columns are ignored).

    Returns:
        ``productid``, ``imageid`` and ``prdtypecode`` as integers, one row per image, in file
        order.

    Raises:
        DatasetError: The file is unreadable, lacks a column, holds a non-integer or an unknown
            category code.
    """
    if not path.is_file():
        raise DatasetError(f"Missing {path.name}: {path} does not exist.")
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise DatasetError(f"Unreadable {path.name}: {path} is not a valid CSV file.") from error
    missing = [column for column in REQUIRED_COLUMNS if column not in table.columns]
    if missing:
        raise DatasetError(
            f"Invalid {path.name}: missing column(s) {format_items(missing)} in {path}; "
            f"expected {', '.join(REQUIRED_COLUMNS)}."
        )
    labels = pd.DataFrame({column: _integers(table, column, path) for column in REQUIRED_COLUMNS})
    unknown = ~labels[TARGET_COLUMN].map(is_category_code)
    if unknown.any():
        bad = [
            f"line {position + 2} ({code})"
            for position, code in zip(
                labels.index[unknown], labels[TARGET_COLUMN][unknown], strict=True
            )
        ]
        raise DatasetError(
            f"Invalid {path.name}: {len(bad)} row(s) have an unknown category code "
            f"({TARGET_COLUMN} must be one of the 27 Rakuten codes): {format_items(bad)}."
        )
    return labels.reset_index(drop=True)


def image_only_rows(
    labels: pd.DataFrame, features: pd.DataFrame, present: set[str], first_index: int
) -> tuple[pd.DataFrame, "pd.Series[int]"]:
    """Turn the labelled images that have no text row into image-only dataset rows.

    Args:
        labels: What :func:`read_image_labels` returned.
        features: The ``X.csv`` rows (their ``productid``/``imageid`` pairs have a text row).
        present: File names of the images that exist.
        first_index: Row index of the first new row (the next ones follow), e.g. one past the
            largest ``X.csv`` index so that no index repeats.

    Returns:
        ``(X, y)`` in the ``X.csv``/``y.csv`` formats: empty texts, the image's ids, its code;
        an image listed twice, or whose file is absent, is left out.
    """
    with_text = set(zip(features["productid"], features["imageid"], strict=True))
    codes = labels.groupby(["productid", "imageid"])[TARGET_COLUMN].nunique()
    conflicts = codes[codes > 1].index.tolist()
    if conflicts:
        logger.warning(
            "%s gives %d image(s) two categories or more (%s): the first line's is kept.",
            IMAGE_LABELS_FILE,
            len(conflicts),
            format_items([f"image {image} of product {product}" for product, image in conflicts]),
        )
    kept = labels.drop_duplicates(["productid", "imageid"])
    keys = zip(kept["productid"], kept["imageid"], strict=True)
    selected = np.array(
        [
            (productid, imageid) not in with_text and image_file_name(imageid, productid) in present
            for productid, imageid in keys
        ],
        dtype=bool,
    )
    kept = kept[selected]
    index = pd.RangeIndex(first_index, first_index + len(kept))
    rows = pd.DataFrame(
        {
            "designation": "",
            "description": "",
            "productid": kept["productid"].to_numpy(),
            "imageid": kept["imageid"].to_numpy(),
        },
        index=index,
        columns=list(FEATURE_COLUMNS),
    )
    targets = pd.Series(kept[TARGET_COLUMN].to_numpy(), index=index, name=TARGET_COLUMN)
    return rows, targets.astype("int64")
