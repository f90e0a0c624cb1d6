"""The catalogue to score: its format, its chunks, and the rules turning its rows into model rows.

Three input formats are read:

- ``original``: a folder as the challenge ships it, ``X.csv`` (unnamed index, ``designation``,
  ``description``, ``productid``, ``imageid``) and ``images/`` holding
  ``image_{imageid}_product_{productid}.jpg`` (``y.csv`` is not needed);
- ``parquet`` and ``csv``: a table with ``productid``, ``designation``, ``description`` and an
  optional image column, ``image_path`` or ``image_uri`` (a path, relative to the table's
  folder when relative, or a URI).

Both engines read the files their own way (pandas chunks here, Spark's readers on a cluster)
and then call :func:`model_rows` on each batch, so a row is judged the same way by both.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Final

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from product_classifier.data.formats import (
    FEATURE_COLUMNS,
    IMAGES_DIR,
    X_FILE,
    image_file_name,
)
from product_classifier.data.original import DatasetError, read_csv_chunks, require_columns
from product_classifier.scoring.columns import (
    DESCRIPTION,
    DESIGNATION,
    MODEL_ROW_COLUMNS,
    PRODUCT_ID,
)
from product_classifier.scoring.images import is_uri
from product_classifier.serving.contract import cell_text

IMAGE_COLUMNS: Final = ("image_path", "image_uri")
"""Accepted names of the image column of a table, in order of preference."""
TABLE_COLUMNS: Final = (PRODUCT_ID, DESIGNATION, DESCRIPTION)
"""Columns every table must have."""
NO_INPUT: Final = "no text and no image"
_DIGITS: Final = re.compile(r"\d{1,18}")


class CatalogueFormat(StrEnum):
    """How the catalogue is stored."""

    ORIGINAL = "original"
    PARQUET = "parquet"
    CSV = "csv"


@dataclass(frozen=True)
class Catalogue:
    """A catalogue to score.

    Attributes:
        format: How it is stored.
        location: The folder (``original``) or the file (tables): a local path or a URI.
        image_base: Folder that relative image paths (and original image names) start from.
        image_column: The table's image column (``None``: none, or the original format).
        text_only: Whether images are ignored (every row is scored from its text).
    """

    format: CatalogueFormat
    location: str
    image_base: str
    image_column: str | None = None
    text_only: bool = False

    @property
    def table_location(self) -> str:
        """The file holding the rows (``X.csv`` of an original folder)."""
        if self.format is CatalogueFormat.ORIGINAL:
            return f"{self.location.rstrip('/')}/{X_FILE}"
        return self.location

    @property
    def text_columns(self) -> tuple[str, ...]:
        """Columns read as text (all of them)."""
        if self.format is CatalogueFormat.ORIGINAL:
            return FEATURE_COLUMNS
        image = (self.image_column,) if self.image_column else ()
        return (*TABLE_COLUMNS, *image)


def _parent(location: str) -> str:
    return location.rstrip("/").rpartition("/")[0] or "."


def table_format(location: str) -> CatalogueFormat:
    """Return the table format of a file from its extension.

    Raises:
        DatasetError: The extension is neither ``.parquet`` nor ``.csv``.
    """
    suffix = Path(location.rstrip("/")).suffix.lower()
    if suffix in {".parquet", ".pq"}:
        return CatalogueFormat.PARQUET
    if suffix == ".csv":
        return CatalogueFormat.CSV
    raise DatasetError(
        f"Unknown input format {location}: give a .parquet or .csv file (or --input-dir for a "
        "folder in the original format)."
    )


def choose_image_column(columns: list[str]) -> str | None:
    """Return the image column of a table with these columns (``None`` when it has none)."""
    return next((name for name in IMAGE_COLUMNS if name in columns), None)


def describe_original(directory: str, *, text_only: bool = False) -> Catalogue:
    """Describe an original data folder (checked when it is local).

    Raises:
        DatasetError: A local folder lacks ``X.csv`` (or ``images/``, unless ``text_only``).
    """
    catalogue = Catalogue(
        format=CatalogueFormat.ORIGINAL,
        location=directory,
        image_base=f"{directory.rstrip('/')}/{IMAGES_DIR}",
        text_only=text_only,
    )
    if not is_uri(directory):
        folder = Path(directory)
        if not folder.is_dir():
            raise DatasetError(f"Input folder {folder} does not exist or is not a folder.")
        missing = [X_FILE] if not (folder / X_FILE).is_file() else []
        if not text_only and not (folder / IMAGES_DIR).is_dir():
            missing.append(f"{IMAGES_DIR}/")
        if missing:
            hint = "" if X_FILE in missing else "; give --text-only to score text alone"
            raise DatasetError(
                f"Invalid input folder {folder}: missing {', '.join(missing)} (an original data "
                f"folder holds {X_FILE} and {IMAGES_DIR}/{hint})."
            )
        header = next(read_csv_chunks(folder / X_FILE, FEATURE_COLUMNS, 1))
        require_columns(header, folder / X_FILE, FEATURE_COLUMNS)
    return catalogue


def _csv_header(path: Path) -> list[str]:
    """The column names of a CSV file, or :class:`DatasetError` when it is not one."""
    try:
        return [str(name) for name in pd.read_csv(path, nrows=0).columns]
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as error:
        raise DatasetError(
            f"Unreadable {path.name}: {path} is not a CSV file with a header line ({error})."
        ) from None


def describe_table(location: str, *, text_only: bool = False) -> Catalogue:
    """Describe a Parquet or CSV table; a local file's columns are checked now.

    Raises:
        DatasetError: Unknown extension, missing file, or missing columns.
    """
    kind = table_format(location)
    image_column = None
    if not is_uri(location):
        path = Path(location)
        if not path.is_file():
            raise DatasetError(f"Input file {path} does not exist.")
        if kind is CatalogueFormat.PARQUET:
            try:
                columns = list(pq.read_schema(path).names)
            except (pa.ArrowException, OSError) as error:
                raise DatasetError(
                    f"Unreadable {path.name}: {path} is not a Parquet file ({error})."
                ) from None
        else:
            columns = _csv_header(path)
        require_columns(pd.DataFrame(columns=columns), path, TABLE_COLUMNS, indexed=False)
        image_column = choose_image_column(columns)
    return Catalogue(
        format=kind,
        location=location,
        image_base=_parent(location),
        image_column=None if text_only else image_column,
        text_only=text_only,
    )


def with_image_column(catalogue: Catalogue, columns: list[str]) -> Catalogue:
    """Return the catalogue with the image column found among ``columns`` (remote tables)."""
    if catalogue.format is CatalogueFormat.ORIGINAL or catalogue.text_only:
        return catalogue
    return Catalogue(
        format=catalogue.format,
        location=catalogue.location,
        image_base=catalogue.image_base,
        image_column=choose_image_column(columns),
        text_only=catalogue.text_only,
    )


# --- reading here (local engine) -----------------------------------------------------------


def count_rows(catalogue: Catalogue) -> int | None:
    """Return the number of rows when it is known without reading them (Parquet)."""
    if catalogue.format is CatalogueFormat.PARQUET:
        return int(pq.ParquetFile(catalogue.location).metadata.num_rows)
    return None


def _exact_batches(batches: Iterator[pa.RecordBatch], rows: int) -> Iterator[pa.Table]:
    """Regroup record batches into tables of exactly ``rows`` rows (the last one fewer)."""
    pending: list[pa.RecordBatch] = []
    pending_rows = 0
    for batch in batches:
        pending.append(batch)
        pending_rows += batch.num_rows
        while pending_rows >= rows:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, rows)
            rest = table.slice(rows)
            pending = rest.to_batches()
            pending_rows = rest.num_rows
    if pending_rows:
        yield pa.Table.from_batches(pending)


def read_chunks(catalogue: Catalogue, rows: int) -> Iterator[pd.DataFrame]:
    """Read the catalogue ``rows`` rows at a time (a local file; bounded memory).

    Every chunk but the last holds exactly ``rows`` rows, so the same input always gives the
    same chunks.

    Raises:
        DatasetError: The file cannot be read.
    """
    path = Path(catalogue.table_location)
    if catalogue.format is CatalogueFormat.PARQUET:
        parquet = pq.ParquetFile(path)
        present = set(parquet.schema_arrow.names)
        columns = [name for name in catalogue.text_columns if name in present]
        for table in _exact_batches(parquet.iter_batches(batch_size=rows, columns=columns), rows):
            yield table.to_pandas()
        return
    yield from read_csv_chunks(
        path,
        catalogue.text_columns,
        rows,
        indexed=catalogue.format is CatalogueFormat.ORIGINAL,
    )


# --- the row rules (both engines) ----------------------------------------------------------


def _texts(frame: pd.DataFrame, column: str | None, unreadable: dict[int, str]) -> list[str]:
    """A column as text (:func:`~product_classifier.serving.contract.cell_text`).

    A cell that is not text in UTF-8 becomes ``""`` and its row is noted in ``unreadable``.
    """
    if column is None or column not in frame.columns:
        return [""] * len(frame)
    values = []
    for row, value in enumerate(frame[column].tolist()):
        try:
            values.append(cell_text(value))
        except UnicodeDecodeError:
            unreadable.setdefault(row, f"{column} is not text in UTF-8")
            values.append("")
    return values


def _image_location(base: str, value: str) -> str:
    if not value or is_uri(value) or value.startswith("file:") or Path(value).is_absolute():
        return value
    return f"{base.rstrip('/')}/{value}"


def model_rows(raw: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """Turn rows as read from the catalogue into the rows the scorer takes.

    Args:
        raw: Rows with the catalogue's columns (values as text, or anything Parquet holds).
        catalogue: Where they come from.

    Returns:
        Columns ``productid``, ``designation``, ``description``, ``image`` (path or URI, ``""``
        when none) and ``error`` (``None``, or why the row cannot be scored), in row order.
    """
    unreadable: dict[int, str] = {}
    product_ids = [value.strip() for value in _texts(raw, PRODUCT_ID, unreadable)]
    designations = _texts(raw, DESIGNATION, unreadable)
    descriptions = _texts(raw, DESCRIPTION, unreadable)
    images: list[str] = []
    errors: list[str | None] = []
    if catalogue.format is CatalogueFormat.ORIGINAL:
        image_ids = [value.strip() for value in _texts(raw, "imageid", unreadable)]
        for product_id, image_id in zip(product_ids, image_ids, strict=True):
            if catalogue.text_only:
                images.append("")
            elif _DIGITS.fullmatch(product_id) and _DIGITS.fullmatch(image_id):
                images.append(
                    f"{catalogue.image_base}/{image_file_name(int(image_id), int(product_id))}"
                )
            else:
                images.append("")
                errors.append(f"invalid imageid {image_id!r} or productid {product_id!r}")
                continue
            errors.append(None)
    else:
        column = None if catalogue.text_only else catalogue.image_column
        for value in _texts(raw, column, unreadable):
            images.append(_image_location(catalogue.image_base, value.strip()))
            errors.append(None)
    for row, product_id in enumerate(product_ids):
        has_text = bool(designations[row].strip() or descriptions[row].strip())
        if errors[row] is not None:
            continue
        if row in unreadable:
            errors[row] = unreadable[row]
        elif not product_id:
            errors[row] = "missing productid"
        elif not has_text and not images[row]:
            errors[row] = NO_INPUT
    columns = (product_ids, designations, descriptions, images, errors)
    return pd.DataFrame(
        {
            name: pd.Series(values, dtype=object)
            for name, values in zip(MODEL_ROW_COLUMNS, columns, strict=True)
        }
    )
