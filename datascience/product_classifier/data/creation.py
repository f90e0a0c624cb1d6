"""Create a dataset folder from an original data folder (what ``create_datasets`` runs).

Steps: validate the input, drop rows whose image is missing (only when asked) or, for a mixed
dataset, keep them as text-only rows and add the labelled images of ``image_labels.csv`` that
have no text row as image-only rows, split per category into train / test / remaining, write
the CSV splits, optimise the images of the train and test rows (white borders cut, resized into
a white square), keep the remaining rows in the original format under ``remaining/``.
Everything is written to a temporary folder that is renamed into place at the end, so a failure
never leaves a half-written dataset.
"""

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from product_classifier.data.dataset_folder import (
    INFO_FILE,
    REMAINING_DIR,
    DatasetInfo,
    split_file_names,
)
from product_classifier.data.formats import IMAGES_DIR, X_FILE, Y_FILE
from product_classifier.data.image_files import ImageFileTask, process_image_file
from product_classifier.data.image_labels import (
    IMAGE_LABELS_FILE,
    image_only_rows,
    read_image_labels,
)
from product_classifier.data.original import (
    DatasetError,
    expected_image_names,
    find_missing_images,
    format_items,
    missing_images_message,
    read_original,
)
from product_classifier.data.output_folder import atomic_output_dir, check_replaceable
from product_classifier.data.parallel import parallel_map
from product_classifier.data.splitting import check_split_sizes, stratified_split
from product_classifier.preprocessing.image import DEFAULT_IMAGE_SIZE

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CreationOptions:
    """Parameters of :func:`create_datasets` (the CLI options of ``create_datasets``).

    Attributes:
        input_dir: Original data folder (``X.csv``, ``y.csv``, ``images/``).
        output_dir: Dataset folder to create.
        train_size: Share of rows in train.
        test_size: Share of rows in test; rows in neither split go to ``remaining/``.
        random_state: Seed of the split.
        drop_missing_images: Drop (and count) rows whose image file is missing instead of
            failing.
        text_only: Write the CSV splits alone: no images needed, none written.
        mixed: Keep rows whose image is missing (text-only rows) and add the labelled images
            of ``image_labels.csv`` without a text row (image-only rows): rows with text, an
            image or both.
        workers: Processes for the images (default: the number of CPUs).
        image_size: Side of the optimised square images.
        overwrite: Replace an existing output folder.
    """

    input_dir: Path
    output_dir: Path
    train_size: float = 0.8
    test_size: float = 0.2
    random_state: int = 42
    drop_missing_images: bool = False
    text_only: bool = False
    mixed: bool = False
    workers: int | None = None
    image_size: int = DEFAULT_IMAGE_SIZE
    overwrite: bool = False


@dataclass(frozen=True)
class CreationSummary:
    """What :func:`create_datasets` wrote and how long it took."""

    output_dir: Path
    info: DatasetInfo
    images_written: int
    seconds: float


def _check_options(options: CreationOptions) -> None:
    try:
        check_split_sizes(options.train_size, options.test_size)
    except ValueError as error:
        raise DatasetError(str(error)) from None
    if options.image_size < 1:
        raise DatasetError(
            f"The image size must be a positive number of pixels, got {options.image_size}."
        )
    if options.workers is not None and options.workers < 1:
        raise DatasetError(f"The number of workers must be at least 1, got {options.workers}.")
    check_replaceable(options.output_dir, [options.input_dir])
    chosen = [
        flag
        for flag, on in (
            ("--text-only", options.text_only),
            ("--drop-missing-images", options.drop_missing_images),
            ("--mixed", options.mixed),
        )
        if on
    ]
    if len(chosen) > 1:
        raise DatasetError(f"Choose one of {', '.join(chosen)}: they exclude each other.")


def _write_xy(
    folder: Path, x_name: str, y_name: str, features: pd.DataFrame, targets: "pd.Series[int]"
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    features.to_csv(folder / x_name)
    targets.to_frame().to_csv(folder / y_name)


def _image_tasks(
    features: pd.DataFrame,
    source_dir: Path,
    destination_dir: Path,
    size: int | None,
    present: set[str] | None,
) -> list[ImageFileTask]:
    """One job per row image (only those in ``present`` when it is given)."""
    destination_dir.mkdir(parents=True, exist_ok=True)
    return [
        ImageFileTask(str(source_dir / name), str(destination_dir / name), size)
        for name in expected_image_names(features)
        if present is None or name in present
    ]


@dataclass(frozen=True)
class _MixedRows:
    """Rows of a mixed dataset and what they hold."""

    features: pd.DataFrame
    targets: "pd.Series[int]"
    present: set[str]
    without_image: int
    image_only: int


def _mixed_rows(
    features: pd.DataFrame, targets: "pd.Series[int]", input_dir: Path, images_dir: Path | None
) -> _MixedRows:
    """Keep every text row, and add the labelled images without a text row."""
    present = {entry.name for entry in images_dir.iterdir()} if images_dir is not None else set()
    without_image = len(find_missing_images(features, images_dir))
    labels_path = input_dir / IMAGE_LABELS_FILE
    if not labels_path.is_file():
        logger.info("No %s in %s: no image-only rows.", IMAGE_LABELS_FILE, input_dir)
        return _MixedRows(features, targets, present, without_image, 0)
    if len(features) and not pd.api.types.is_integer_dtype(features.index):
        integers = (int, np.integer)
        example = next(
            (value for value in features.index if not isinstance(value, integers)),
            features.index[0],
        )
        raise DatasetError(
            f"--mixed numbers the image-only rows after the text rows, so X.csv's row index "
            f"(first column) must hold integers, as the challenge files do; found {example!r}."
        )
    first_index = int(features.index.max()) + 1 if len(features) else 0
    extra_x, extra_y = image_only_rows(
        read_image_labels(labels_path), features, present, first_index
    )
    logger.info(
        "%d text rows (%d without their image) and %d image-only rows from %s.",
        len(features),
        without_image,
        len(extra_x),
        IMAGE_LABELS_FILE,
    )
    return _MixedRows(
        pd.concat([features, extra_x]),
        pd.concat([targets, extra_y]),
        present,
        without_image,
        len(extra_x),
    )


def create_datasets(options: CreationOptions) -> CreationSummary:
    """Create a dataset folder from an original data folder.

    Args:
        options: What to read, what to write and how.

    Returns:
        A summary, including the ``dataset_info.json`` content.

    Raises:
        DatasetError: The input is invalid (missing files, bad CSVs, unknown categories, missing
            or unreadable images) or an option is out of range.
        OutputExistsError: The output folder exists and ``overwrite`` is false.
    """
    started = time.perf_counter()
    _check_options(options)
    original = read_original(options.input_dir, require_images=not options.text_only)
    features, targets = original.X, original.y
    repeated = features["productid"][features["productid"].duplicated()].unique()
    if len(repeated):
        logger.warning(
            "X.csv lists %d product id(s) on two rows or more (%s): every row is kept.",
            len(repeated),
            format_items(repeated),
        )

    dropped = 0
    present: set[str] | None = None
    mixed: _MixedRows | None = None
    if options.mixed:
        mixed = _mixed_rows(features, targets, Path(options.input_dir), original.images_dir)
        features, targets, present = mixed.features, mixed.targets, mixed.present
    elif not options.text_only:
        missing = find_missing_images(features, original.images_dir)
        if len(missing) and not options.drop_missing_images:
            raise DatasetError(
                missing_images_message(features, missing, original.images_dir)
                + " Add the files, drop these rows (--drop-missing-images), keep them without "
                "their image (--mixed) or make a text-only dataset (--text-only)."
            )
        if len(missing):
            dropped = len(missing)
            logger.warning("Dropping %d of %d rows whose image is missing", dropped, len(features))
            features, targets = features.drop(index=missing), targets.drop(index=missing)
            if features.empty:
                raise DatasetError(f"No row of {original.directory} has its image file.")

    split = stratified_split(targets, options.train_size, options.test_size, options.random_state)
    images_dir = original.images_dir
    tasks: list[ImageFileTask] = []
    with atomic_output_dir(options.output_dir, overwrite=options.overwrite) as folder:
        for name, rows in (("train", split.train), ("test", split.test)):
            x_name, y_name = split_file_names(name)  # type: ignore[arg-type]
            _write_xy(folder, x_name, y_name, features.loc[rows], targets.loc[rows])
            if images_dir is not None and not options.text_only:
                tasks += _image_tasks(
                    features.loc[rows], images_dir, folder / IMAGES_DIR, options.image_size, present
                )
        if len(split.remaining):
            remaining_dir = folder / REMAINING_DIR
            rows = split.remaining
            _write_xy(remaining_dir, X_FILE, Y_FILE, features.loc[rows], targets.loc[rows])
            if images_dir is not None and not options.text_only:
                tasks += _image_tasks(
                    features.loc[rows], images_dir, remaining_dir / IMAGES_DIR, None, present
                )

        errors = parallel_map(
            process_image_file,
            tasks,
            workers=options.workers,
            description="Optimising images",
            unit="img",
        )
        unreadable = [error for error in errors if error is not None]
        if unreadable:
            raise DatasetError(
                f"{len(unreadable)} unreadable image file(s) in {images_dir}: "
                f"{format_items(unreadable)}. Replace or remove them."
            )

        info = DatasetInfo(
            source=str(original.directory),
            text_only=options.text_only,
            image_size=None if options.text_only else options.image_size,
            train_size=options.train_size,
            test_size=options.test_size,
            random_state=options.random_state,
            rows={
                "train": len(split.train),
                "test": len(split.test),
                "remaining": len(split.remaining),
            },
            dropped_missing_images=dropped,
            unsplit_categories=list(split.unsplit_categories),
            mixed=options.mixed,
            rows_without_image=mixed.without_image if mixed else 0,
            image_only_rows=mixed.image_only if mixed else 0,
        )
        (folder / INFO_FILE).write_text(info.to_json(), encoding="utf-8")

    seconds = time.perf_counter() - started
    logger.info(
        "Created %s: %d train, %d test, %d remaining rows, %d images in %.1f s",
        options.output_dir,
        len(split.train),
        len(split.test),
        len(split.remaining),
        len(tasks),
        seconds,
    )
    return CreationSummary(Path(options.output_dir), info, len(tasks), seconds)
