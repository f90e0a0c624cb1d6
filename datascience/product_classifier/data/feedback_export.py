"""Turn production feedback into an original data folder (``X.csv``, ``y.csv``, ``images/``).

The API stores every prediction (texts, the SHA-256 of its image) and the category the seller
finally chose (``feedback``). This module reads those two tables of the API's database with
SQLAlchemy Core (plain queries on their known columns; the backend's code is not imported) and
the images from the image store, and writes the products that received feedback in the
challenge's format, so that ``create_datasets`` and the training CLIs read them as they read the
challenge data:

- one row per product (the marketplace's ``product_id`` of the feedback), its latest feedback
  winning; ``prdtypecode`` is the seller's category (``real_category_id``);
- ``designation`` and ``description`` are those of the prediction the feedback is about (its
  ``prediction_id``; else the latest prediction of the same product id and model version);
- ``imageid`` is that prediction's id (predictions keep no image id of their own), so the image
  file is ``images/image_{prediction id}_product_{product id}.jpg``, the bytes the API received;
- a row whose image is not in the store keeps its text (no image file); a row with neither text
  nor a stored image is left out (counted).
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import pandas as pd
from sqlalchemy import column, create_engine, select, table
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from product_classifier.data.formats import (
    FEATURE_COLUMNS,
    IMAGES_DIR,
    TARGET_COLUMN,
    X_FILE,
    Y_FILE,
    image_file_name,
)
from product_classifier.data.original import DatasetError
from product_classifier.data.output_folder import atomic_output_dir
from product_classifier.image_store import ImageStore

logger = logging.getLogger(__name__)

FEEDBACK: Final = table(
    "feedback",
    column("id"),
    column("created_at"),
    column("product_id"),
    column("model_version"),
    column("real_category_id"),
    column("prediction_id"),
)
PREDICTIONS: Final = table(
    "predictions",
    column("id"),
    column("product_id"),
    column("model_version"),
    column("designation"),
    column("description"),
    column("image_sha256"),
)
PREDICTION_COLUMNS: Final = ("designation", "description", "image_sha256")
IDS_PER_QUERY: Final = 500


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """What to export and where.

    Attributes:
        database_url: SQLAlchemy URL of the API's database.
        image_store_url: The API's image store (folder or fsspec URL); ``None``: no images.
        output_dir: The original data folder to create.
        since: Only feedback received at or after this time (aware; naive means UTC).
        model_version: Only feedback about predictions of this model version.
        overwrite: Replace ``output_dir`` if it exists.
    """

    database_url: str
    image_store_url: str | None
    output_dir: Path
    since: datetime | None = None
    model_version: str | None = None
    overwrite: bool = False


@dataclass(frozen=True, slots=True)
class ExportSummary:
    """What an export wrote."""

    output_dir: Path
    rows: int
    classes: int
    images: int
    rows_without_image: int
    skipped_without_prediction: int
    skipped_without_content: int


def _utc(value: Any) -> datetime:
    """A timestamp read from either database, as an aware UTC datetime."""
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize(UTC) if stamp.tzinfo is None else stamp.tz_convert(UTC)
    return stamp.to_pydatetime()


def _open_engine(database_url: str) -> Engine:
    try:
        url = make_url(database_url)
    except (ArgumentError, ValueError):  # not a URL, or a port that is not a number
        raise DatasetError(
            "The database URL is not a SQLAlchemy URL (e.g. sqlite:///var/app.db or "
            "postgresql+psycopg2://user@host:5432/app)."
        ) from None
    database = url.database if url.get_backend_name() == "sqlite" else None
    if database not in (None, "", ":memory:") and not Path(str(database)).is_file():
        raise DatasetError(
            f"No database at {url.database}: start the API once (./scripts/start.sh) or "
            "give its database URL (--database-url or SQLALCHEMY_DATABASE_URI)."
        )
    return create_engine(url)


def _read_feedback(engine: Engine, model_version: str | None) -> pd.DataFrame:
    """Every feedback (of ``model_version``) joined to the prediction it names."""
    query = select(
        FEEDBACK.c.id,
        FEEDBACK.c.created_at,
        FEEDBACK.c.product_id,
        FEEDBACK.c.model_version,
        FEEDBACK.c.real_category_id,
        PREDICTIONS.c.id.label("prediction_id"),
        *(PREDICTIONS.c[name] for name in PREDICTION_COLUMNS),
    ).select_from(FEEDBACK.outerjoin(PREDICTIONS, PREDICTIONS.c.id == FEEDBACK.c.prediction_id))
    if model_version is not None:
        query = query.where(FEEDBACK.c.model_version == model_version)
    with engine.connect() as connection:
        result = connection.execute(query)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def _predictions_by_product(
    engine: Engine, product_ids: list[str]
) -> dict[tuple[str, str], dict[str, Any]]:
    """The latest prediction of each (product id, model version), for feedback without id."""
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    with engine.connect() as connection:
        for start in range(0, len(product_ids), IDS_PER_QUERY):
            query = (
                select(
                    PREDICTIONS.c.id,
                    PREDICTIONS.c.product_id,
                    PREDICTIONS.c.model_version,
                    *(PREDICTIONS.c[name] for name in PREDICTION_COLUMNS),
                )
                .where(PREDICTIONS.c.product_id.in_(product_ids[start : start + IDS_PER_QUERY]))
                .order_by(PREDICTIONS.c.id)
            )
            for found in connection.execute(query).mappings():
                latest[(found["product_id"], found["model_version"])] = dict(found)
    return latest


def _link_by_product(engine: Engine, feedback: pd.DataFrame) -> pd.DataFrame:
    """Fill the prediction of feedback sent without ``prediction_id`` by product and version."""
    unlinked = feedback.index[feedback["prediction_id"].isna()].tolist()
    if not unlinked:
        return feedback
    keys = {row: str(feedback.at[row, "product_id"]) for row in unlinked}
    predictions = _predictions_by_product(engine, sorted(set(keys.values())))
    for row, key in keys.items():
        found = predictions.get((key, str(feedback.at[row, "model_version"])))
        if found is not None:
            feedback.at[row, "prediction_id"] = found["id"]
            for name in PREDICTION_COLUMNS:
                feedback.at[row, name] = found[name]
    return feedback


def read_feedback_rows(
    database_url: str, *, since: datetime | None = None, model_version: str | None = None
) -> tuple[pd.DataFrame, int]:
    """Read the latest feedback of each product with the texts and image of its prediction.

    Args:
        database_url: SQLAlchemy URL of the API's database.
        since: Only feedback received at or after this time.
        model_version: Only feedback about this model version.

    Returns:
        ``(rows, skipped)``: one row per product (columns ``product_id``, ``real_category_id``,
        ``prediction_id``, ``designation``, ``description``, ``image_sha256``), ordered by
        feedback time; and how many products were left out because no stored prediction
        matches their feedback.

    Raises:
        DatasetError: The database cannot be opened or lacks the API's tables.
    """
    engine = _open_engine(database_url)
    try:
        feedback = _read_feedback(engine, model_version)
        # SQLite gives the times back as text, PostgreSQL as aware datetimes: compare in UTC.
        feedback["created_at"] = [_utc(value) for value in feedback["created_at"]]
        if since is not None:
            cutoff = since if since.tzinfo else since.replace(tzinfo=UTC)
            feedback = feedback[feedback["created_at"] >= cutoff]
        feedback = feedback.sort_values(["created_at", "id"]).drop_duplicates(
            "product_id", keep="last"
        )
        feedback = _link_by_product(engine, feedback.astype({"prediction_id": "object"}))
    except SQLAlchemyError as error:
        raise DatasetError(
            f"Cannot read the feedback from {make_url(database_url)!r} (the API's database, "
            f"migrated): {str(error).splitlines()[0]}"
        ) from None
    finally:
        engine.dispose()
    linked = feedback["prediction_id"].notna()
    return feedback[linked].reset_index(drop=True), int((~linked).sum())


def _open_store(url: str) -> ImageStore | None:
    """The image store at ``url``; ``None`` (said) when it does not exist.

    Raises:
        DatasetError: ``url`` is a file, not a store folder.
    """
    store = ImageStore(url)
    if not store.fs.exists(store.root):
        logger.warning(
            "The image store %s does not exist: every row keeps its text only (check "
            "--image-store-url or IMAGE_STORE_URL).",
            url,
        )
        return None
    if not store.fs.isdir(store.root):
        raise DatasetError(f"The image store {url} is a file, not the API's image store folder.")
    return store


def _stored_images(url: str | None, digests: list[object]) -> dict[int, bytes]:
    """The stored image of each row (by position) that has one in the store at ``url``.

    Raises:
        DatasetError: The store is a file or cannot be read.
    """
    store = _open_store(url) if url else None
    images: dict[int, bytes] = {}
    if store is None:
        return images
    for position, digest in enumerate(digests):
        try:
            data = store.get(digest) if isinstance(digest, str) else None
        except OSError as error:
            raise DatasetError(f"Cannot read the image store {url}: {error}") from None
        if data is not None:
            images[position] = data
    return images


def export_feedback_dataset(options: ExportOptions) -> ExportSummary:
    """Write the products that received feedback as an original data folder, atomically.

    Args:
        options: Database, image store, output folder and filters.

    Returns:
        How many rows, classes and images were written, and what was left out.

    Raises:
        DatasetError: The database or the image store cannot be read, or no feedback matches.
        OutputExistsError: The output folder exists and ``overwrite`` is false.
    """
    rows, without_prediction = read_feedback_rows(
        options.database_url, since=options.since, model_version=options.model_version
    )
    images = _stored_images(options.image_store_url, rows["image_sha256"].tolist())
    has_text = (rows["designation"].fillna("").str.strip() != "") | (
        rows["description"].fillna("").str.strip() != ""
    )
    has_image = rows.index.isin(list(images))
    kept = rows[has_text | has_image]
    if kept.empty:
        raise DatasetError(
            "No feedback to export"
            + (f" since {options.since.isoformat()}" if options.since else "")
            + (f" for model version {options.model_version}" if options.model_version else "")
            + f" in {make_url(options.database_url)!r}."
        )
    features = pd.DataFrame(
        {
            "designation": kept["designation"].fillna("").to_numpy(),
            "description": kept["description"].fillna("").to_numpy(),
            "productid": kept["product_id"].astype("int64").to_numpy(),
            "imageid": kept["prediction_id"].astype("int64").to_numpy(),
        },
        columns=list(FEATURE_COLUMNS),
    )
    targets = pd.DataFrame({TARGET_COLUMN: kept["real_category_id"].astype("int64").to_numpy()})
    with atomic_output_dir(options.output_dir, overwrite=options.overwrite) as folder:
        features.to_csv(folder / X_FILE)
        targets.to_csv(folder / Y_FILE)
        (folder / IMAGES_DIR).mkdir()
        positions = kept.index.tolist()
        ids = zip(features["imageid"].tolist(), features["productid"].tolist(), strict=True)
        for position, (imageid, productid) in zip(positions, ids, strict=True):
            if position in images:
                name = image_file_name(imageid, productid)
                (folder / IMAGES_DIR / name).write_bytes(images[position])
    written = sum(position in images for position in positions)
    summary = ExportSummary(
        output_dir=options.output_dir,
        rows=len(features),
        classes=int(targets[TARGET_COLUMN].nunique()),
        images=written,
        rows_without_image=len(features) - written,
        skipped_without_prediction=without_prediction,
        skipped_without_content=len(rows) - len(kept),
    )
    logger.info("Exported %s", summary)
    return summary
