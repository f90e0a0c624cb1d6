"""Argument types and logging set-up shared by the datascience command-line scripts."""

import argparse
import logging
from pathlib import Path

from product_classifier.paths import resolve_from_root
from product_classifier.training.cli import positive_int

__all__ = [
    "add_output_folder_arguments",
    "configure_logging",
    "positive_int",
    "root_path",
    "share",
]


def share(text: str) -> float:
    """Parse a share of rows, strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number between 0 and 1, got {text!r}"
        ) from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(
            f"expected a number between 0 and 1 (exclusive), got {value}"
        )
    return value


def root_path(text: str) -> Path:
    """Parse a path; relative paths are resolved from the repository root."""
    return resolve_from_root(text)


def configure_logging() -> None:
    """Log INFO and above to stderr with timestamps."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def add_output_folder_arguments(parser: argparse.ArgumentParser, what: str) -> None:
    """Add ``--output-dir`` (required) and ``--overwrite``, for a folder written atomically.

    Args:
        parser: The command's parser.
        what: What the folder is, for the help (e.g. ``"dataset folder"``).
    """
    parser.add_argument(
        "--output-dir",
        metavar="DIR",
        type=root_path,
        required=True,
        help=f"{what} to create (must not exist unless --overwrite)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the output folder if it exists (only once the new one is complete)",
    )
