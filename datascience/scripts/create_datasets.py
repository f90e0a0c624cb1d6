"""Create train/test dataset folders from an original data folder.

Run from ``datascience/``::

    python -m scripts.create_datasets --input-dir var/data/sample --output-dir var/datasets/sample \
        --train-size 0.8 --test-size 0.2
"""

import argparse
import sys
from collections.abc import Sequence

from product_classifier.data.creation import CreationOptions, create_datasets
from product_classifier.data.original import DatasetError
from product_classifier.data.output_folder import OutputFolderError
from product_classifier.data.parallel import default_workers
from product_classifier.preprocessing.image import DEFAULT_IMAGE_SIZE
from scripts.cli_support import (
    add_output_folder_arguments,
    image_side,
    interrupted,
    root_path,
    seed,
    share,
    start_command,
    worker_count,
)


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(
        prog="python -m scripts.create_datasets",
        description=(
            "Validate an original data folder (X.csv, y.csv, images/), split it per category "
            "into train and test, and write a dataset folder: X_train.csv, y_train.csv, "
            "X_test.csv, y_test.csv (the original format's columns: designation, description, "
            "productid, imageid and prdtypecode; other columns are left out), images/ with the "
            "optimised images of both splits (outer white borders cut, resized into a white square "
            "keeping the ratio), dataset_info.json, and remaining/ (original format, original "
            "images) with the rows in neither split when train size + test size < 1. Output is "
            "written to a temporary folder beside the target and renamed at the end: a failure "
            "leaves nothing behind."
        ),
        epilog=(
            "Categories with a single row go to train only (reported as unsplit); every other "
            "category has at least one row in train and one in test. Relative paths are resolved "
            "from the repository root, not the current folder. Exit code 2 on invalid input."
        ),
    )
    parser.add_argument(
        "--input-dir",
        metavar="DIR",
        type=root_path,
        required=True,
        help="original data folder to read",
    )
    add_output_folder_arguments(parser, "dataset folder")
    parser.add_argument(
        "--train-size",
        metavar="SHARE",
        type=share,
        default=0.8,
        help="share of rows in train (default: 0.8)",
    )
    parser.add_argument(
        "--test-size",
        metavar="SHARE",
        type=share,
        default=0.2,
        help="share of rows in test (default: 0.2)",
    )
    parser.add_argument(
        "--random-state", metavar="S", type=seed, default=42, help="seed of the split (default: 42)"
    )
    images = parser.add_mutually_exclusive_group()
    images.add_argument(
        "--drop-missing-images",
        action="store_true",
        help="drop (and count) rows whose image file is missing instead of failing",
    )
    images.add_argument(
        "--text-only",
        action="store_true",
        help="write the CSV splits only; images/ is neither needed nor written",
    )
    images.add_argument(
        "--mixed",
        action="store_true",
        help="rows with text, an image or both: keep the rows whose image is missing (text "
        "only) and add the labelled images of image_labels.csv (columns productid, imageid, "
        "prdtypecode; when the input folder has one) whose product has no X.csv row (image "
        "only, empty texts). What the fusion model trains on; the text model reads the rows "
        "with text, the image model those with an image",
    )
    parser.add_argument(
        "--workers",
        metavar="N",
        type=worker_count,
        default=default_workers(),
        help="processes optimising images (default: the number of CPUs, %(default)s here)",
    )
    parser.add_argument(
        "--image-size",
        metavar="PIXELS",
        type=image_side,
        default=DEFAULT_IMAGE_SIZE,
        help="side in pixels of the optimised square images, 32 to 1024 as the image model "
        f"takes (default: {DEFAULT_IMAGE_SIZE}, its input size)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return the process exit code."""
    args = build_parser().parse_args(argv)
    start_command()
    options = CreationOptions(
        input_dir=args.input_dir,
        output_dir=args.output_dir,
        train_size=args.train_size,
        test_size=args.test_size,
        random_state=args.random_state,
        drop_missing_images=args.drop_missing_images,
        text_only=args.text_only,
        mixed=args.mixed,
        workers=args.workers,
        image_size=args.image_size,
        overwrite=args.overwrite,
    )
    try:
        summary = create_datasets(options)
    except KeyboardInterrupt:
        return interrupted()
    except (DatasetError, OutputFolderError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    rows = summary.info.rows
    print(
        f"Created {summary.output_dir}: {rows['train']} train, {rows['test']} test, "
        f"{rows['remaining']} remaining rows; {summary.info.dropped_missing_images} rows dropped "
        f"for a missing image; {summary.images_written} images in {summary.seconds:.1f} s"
    )
    if summary.info.mixed:
        print(
            f"Mixed rows: {summary.info.rows_without_image} with text but no image, "
            f"{summary.info.image_only_rows} image-only (from image_labels.csv), the others "
            "with both."
        )
    if summary.info.unsplit_categories:
        codes = ", ".join(map(str, summary.info.unsplit_categories))
        print(f"Categories with a single row, kept in train only: {codes}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
