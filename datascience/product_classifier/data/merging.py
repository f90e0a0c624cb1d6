"""Merge original data folders (the challenge data and feedback exports) into one.

Rows are concatenated in the order the folders are given; a product (``productid``) present in
several folders keeps the row of the **last** one (give the challenge data first and the newer
feedback export after it: the seller's latest category wins). Each kept row brings its image
file when its folder has it; ``image_labels.csv`` files are merged too, without the images of
products that a later folder has a row for (their old label must not come back as an
image-only row). The result is
an original data folder that ``create_datasets`` reads like any other.
"""

import logging
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from product_classifier.data.formats import IMAGES_DIR, TARGET_COLUMN, X_FILE, Y_FILE
from product_classifier.data.image_labels import IMAGE_LABELS_FILE, read_image_labels
from product_classifier.data.original import (
    DatasetError,
    OriginalData,
    expected_image_names,
    read_original,
)
from product_classifier.data.output_folder import atomic_output_dir, check_replaceable

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MergeSummary:
    """What a merge wrote."""

    output_dir: Path
    rows: int
    classes: int
    images: int
    replaced_rows: int
    """Rows replaced by a later row of the same product (of a later folder, or of their own)."""


def _place(source: Path, destination: Path) -> None:
    """Hard-link ``source`` to ``destination`` (same file system), else copy it."""
    try:
        os.link(source, destination)
    except OSError:
        shutil.copyfile(source, destination)


def _copy_images(names: Sequence[str], sources: Sequence[Path | None], images_dir: Path) -> int:
    written = 0
    for name, source_dir in zip(names, sources, strict=True):
        source = source_dir / name if source_dir is not None else None
        if source is not None and source.is_file() and not (images_dir / name).exists():
            _place(source, images_dir / name)
            written += 1
    return written


def _labels_not_replaced(directory: Path, later: Sequence[OriginalData]) -> pd.DataFrame:
    """The labelled images of ``directory`` whose product no later folder has a row for."""
    labels = read_image_labels(directory / IMAGE_LABELS_FILE)
    replaced = {int(productid) for part in later for productid in part.X["productid"]}
    return labels[~labels["productid"].isin(replaced)]


def merge_original_folders(
    input_dirs: Sequence[Path], output_dir: Path, *, overwrite: bool = False
) -> MergeSummary:
    """Merge original data folders into ``output_dir`` (written atomically).

    Args:
        input_dirs: The folders, earliest first (later folders win for a repeated product).
        output_dir: The original data folder to create.
        overwrite: Replace ``output_dir`` if it exists.

    Returns:
        How many rows, classes and images were written, and how many rows were replaced.

    Raises:
        DatasetError: Fewer than two folders, or one is not a valid original data folder.
        OutputWouldReplaceError: The output folder is (or holds) one of them, the repository
            or ``STATE_DIR``.
        OutputExistsError: ``output_dir`` exists and ``overwrite`` is false.
    """
    if len(input_dirs) < 2:
        raise DatasetError("Give at least two folders to merge.")
    check_replaceable(output_dir, input_dirs)
    parts = [read_original(directory, require_images=False) for directory in input_dirs]
    features = pd.concat([part.X for part in parts], ignore_index=True)
    targets = pd.concat([part.y for part in parts], ignore_index=True)
    image_dirs = [part.images_dir for part in parts for _ in range(len(part.X))]
    for part in parts:
        repeated = int(part.X["productid"].duplicated().sum())
        if repeated:
            logger.warning(
                "%s lists %d product(s) twice or more: the last row of each is kept.",
                part.directory,
                repeated,
            )
    keep = ~features["productid"].duplicated(keep="last")
    kept_dirs = [directory for directory, kept in zip(image_dirs, keep, strict=True) if kept]
    features = features[keep].reset_index(drop=True)
    targets = targets[keep].reset_index(drop=True)
    labels = [
        (_labels_not_replaced(part.directory, parts[position + 1 :]), part.images_dir)
        for position, part in enumerate(parts)
        if (part.directory / IMAGE_LABELS_FILE).is_file()
    ]
    with atomic_output_dir(output_dir, overwrite=overwrite) as folder:
        features.to_csv(folder / X_FILE)
        targets.to_frame(TARGET_COLUMN).to_csv(folder / Y_FILE)
        (folder / IMAGES_DIR).mkdir()
        images = _copy_images(expected_image_names(features), kept_dirs, folder / IMAGES_DIR)
        if labels:
            merged = pd.concat([table for table, _ in labels], ignore_index=True)
            label_dirs = [source for table, source in labels for _ in range(len(table))]
            unique = ~merged["imageid"].duplicated(keep="last")
            merged = merged[unique]
            names = expected_image_names(merged)
            dirs = [source for source, kept in zip(label_dirs, unique, strict=True) if kept]
            images += _copy_images(names, dirs, folder / IMAGES_DIR)
            merged.to_csv(folder / IMAGE_LABELS_FILE, index=False)
    summary = MergeSummary(
        output_dir=output_dir,
        rows=len(features),
        classes=int(targets.nunique()),
        images=images,
        replaced_rows=int((~keep).sum()),
    )
    logger.info("Merged %d folders: %s", len(input_dirs), summary)
    return summary
