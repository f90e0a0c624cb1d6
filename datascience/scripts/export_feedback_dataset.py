"""Export the products that received feedback in production as an original data folder.

Run from ``datascience/``::

    python -m scripts.export_feedback_dataset --output-dir var/data/feedback \
        [--since 2026-01-31] [--model-version 3]
"""

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from product_classifier.data.feedback_export import ExportOptions, export_feedback_dataset
from product_classifier.data.original import DatasetError
from product_classifier.data.output_folder import OutputFolderError
from product_classifier.settings import get_platform_settings, normalize_database_url
from scripts.cli_support import add_output_folder_arguments, interrupted, start_command


def moment(text: str) -> datetime:
    """Parse ``--since``: an ISO date or date-time; without an offset, UTC."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a date (2026-01-31) or date-time (2026-01-31T08:00:00+01:00), got {text!r}"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def database_url(text: str) -> str:
    """Argparse type: a database URL, as the ``SQLALCHEMY_DATABASE_URI`` setting takes it."""
    try:
        return normalize_database_url(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_feedback_source_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--database-url`` and ``--image-store-url`` (where the API keeps its feedback)."""
    parser.add_argument(
        "--database-url",
        metavar="URL",
        type=database_url,
        help="the API's database, read as SQLALCHEMY_DATABASE_URI is (default: the API's own "
        "setting)",
    )
    parser.add_argument(
        "--image-store-url",
        metavar="URL",
        help="the API's image store, a folder or fsspec URL (default: the API's own setting; "
        "with IMAGE_STORE_ENABLED=false, none: text only)",
    )


def feedback_source(args: argparse.Namespace) -> tuple[str, str | None]:
    """The API's database URL and image store URL (``None``: no images) from the arguments."""
    settings = get_platform_settings()
    store_url: str | None = args.image_store_url
    if store_url is None and settings.IMAGE_STORE_ENABLED:
        store_url = settings.image_store_url
    return args.database_url or settings.database_url, store_url


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(
        prog="python -m scripts.export_feedback_dataset",
        description=(
            "Write the products that received feedback (the category the seller chose) as an "
            "original data folder: X.csv (designation, description, productid, imageid), "
            "y.csv (prdtypecode = the seller's category) and images/ (the images the API "
            "received, from its image store). One row per product, its latest feedback "
            "winning; imageid is the id of the stored prediction. Rows whose image is not kept "
            "keep their text. Written to a temporary folder and renamed at the end."
        ),
        epilog=(
            "Reads the API's database (SQLALCHEMY_DATABASE_URI or POSTGRES_*, default the "
            "SQLite file STATE_DIR/app.db) and its image store (IMAGE_STORE_URL, default "
            "STATE_DIR/images). Relative paths are resolved from the repository root. Then: "
            "python -m scripts.create_datasets --input-dir DIR --output-dir ... --mixed. "
            "Exit code 2 on invalid input or when no feedback matches."
        ),
    )
    add_output_folder_arguments(parser, "original data folder")
    parser.add_argument(
        "--since",
        metavar="DATE",
        type=moment,
        help="only feedback received at or after this date or date-time (UTC without offset)",
    )
    parser.add_argument(
        "--model-version", metavar="V", help="only feedback about this model version"
    )
    add_feedback_source_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return the process exit code."""
    args = build_parser().parse_args(argv)
    start_command()
    database_url, store_url = feedback_source(args)
    options = ExportOptions(
        database_url=database_url,
        image_store_url=store_url,
        output_dir=args.output_dir,
        since=args.since,
        model_version=args.model_version,
        overwrite=args.overwrite,
    )
    try:
        summary = export_feedback_dataset(options)
    except KeyboardInterrupt:
        return interrupted()
    except (DatasetError, OutputFolderError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(
        f"Exported {summary.output_dir}: {summary.rows} rows, {summary.classes} classes, "
        f"{summary.images} images ({summary.rows_without_image} rows with text only); "
        f"left out: {summary.skipped_without_prediction} products whose prediction is not "
        f"stored, {summary.skipped_without_content} with neither text nor a kept image."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
