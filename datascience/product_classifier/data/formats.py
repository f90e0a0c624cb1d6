"""File and column names of the original data folder and of dataset folders.

The original Rakuten challenge ships ``X.csv`` (unnamed index, ``designation``, ``description``,
``productid``, ``imageid``), ``y.csv`` (unnamed index, ``prdtypecode``) and ``images/`` holding
``image_{imageid}_product_{productid}.jpg``. Dataset folders use the same columns and file names.
"""

from typing import Final

FEATURE_COLUMNS: Final = ("designation", "description", "productid", "imageid")
"""Columns of ``X*.csv`` files, in order (after the unnamed index)."""

TEXT_COLUMNS: Final = ("designation", "description")
ID_COLUMNS: Final = ("productid", "imageid")
TARGET_COLUMN: Final = "prdtypecode"
"""The only column of ``y*.csv`` files: the category code."""

X_FILE: Final = "X.csv"
Y_FILE: Final = "y.csv"
IMAGES_DIR: Final = "images"


def image_file_name(imageid: int, productid: int) -> str:
    """Return the file name of a product image: ``image_{imageid}_product_{productid}.jpg``."""
    return f"image_{int(imageid)}_product_{int(productid)}.jpg"
