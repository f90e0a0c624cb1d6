"""Merge original data folders, e.g. the challenge data and a feedback export, into one.

Run from ``datascience/``::

    python -m scripts.merge_original_folders --input-dir ../shared/data/rakuten-sample \
        --input-dir var/data/feedback --output-dir var/data/merged
"""

import argparse
import sys
from collections.abc import Sequence

from product_classifier.data.merging import merge_original_folders
from product_classifier.data.original import DatasetError
from product_classifier.data.output_folder import OutputFolderError
from scripts.cli_support import (
    add_output_folder_arguments,
    interrupted,
    root_path,
    start_command,
)


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(
        prog="python -m scripts.merge_original_folders",
        description=(
            "Concatenate original data folders (X.csv, y.csv, images/, image_labels.csv when "
            "present) into a new one. A product present in several folders keeps the row of "
            "the last folder given: give the challenge data first, feedback exports after. "
            "Images are hard-linked when possible (else copied). Written to a temporary folder "
            "and renamed at the end."
        ),
        epilog="Relative paths are resolved from the repository root. Exit code 2 on invalid "
        "input.",
    )
    parser.add_argument(
        "--input-dir",
        metavar="DIR",
        type=root_path,
        action="append",
        required=True,
        help="an original data folder (give it twice or more, earliest first)",
    )
    add_output_folder_arguments(parser, "original data folder")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return the process exit code."""
    args = build_parser().parse_args(argv)
    start_command()
    try:
        summary = merge_original_folders(args.input_dir, args.output_dir, overwrite=args.overwrite)
    except KeyboardInterrupt:
        return interrupted()
    except (DatasetError, OutputFolderError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(
        f"Merged {len(args.input_dir)} folders into {summary.output_dir}: {summary.rows} rows, "
        f"{summary.classes} classes, {summary.images} images; {summary.replaced_rows} rows "
        "replaced by a later row of the same product."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
