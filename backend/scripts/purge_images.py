"""Delete the stored images that no recent prediction refers to (``IMAGE_STORE_RETENTION_DAYS``).

Reads the application database and the image store of the settings (environment, then
``.env``), like the API, which also runs this purge once when it starts.

Usage (from backend/)::

    python -m scripts.purge_images [--retention-days N]
"""

import argparse
import logging
import sys

from app.core.config import get_settings
from app.db.session import create_session_factory
from app.inference.image_keeping import open_image_store
from app.inference.image_retention import purge_expired_images
from product_classifier.settings import MAX_IMAGE_RETENTION_DAYS
from scripts.prestart import UnreadableDatabaseError, migrated_database

MOST_RETENTION_DAYS = MAX_IMAGE_RETENTION_DAYS
"""The longest retention, as for the ``IMAGE_STORE_RETENTION_DAYS`` setting."""


def _retention_days(value: str) -> int:
    try:
        days = int(value)
    except ValueError:
        days = 0
    if 1 <= days <= MOST_RETENTION_DAYS:
        return days
    raise argparse.ArgumentTypeError(
        f"expected a whole number of days from 1 to {MOST_RETENTION_DAYS}, got {value!r}"
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.purge_images", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument(
        "--retention-days",
        type=_retention_days,
        help="keep images a prediction of the last N days refers to, N at most "
        f"{MOST_RETENTION_DAYS} (default: IMAGE_STORE_RETENTION_DAYS)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Purge the image store; return the process exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s [%(name)s] %(message)s")
    settings = get_settings()
    days = args.retention_days
    if days is None:
        days = settings.IMAGE_STORE_RETENTION_DAYS
    store = open_image_store(settings)
    if store is None:
        print("The image store is off (IMAGE_STORE_ENABLED=false): nothing to purge.")
        return 0
    if days <= 0:
        print(
            "error: no retention: set IMAGE_STORE_RETENTION_DAYS or pass --retention-days N "
            "(a positive number of days).",
            file=sys.stderr,
        )
        return 2
    try:
        with migrated_database(settings.database_url) as engine:
            summary = purge_expired_images(store, create_session_factory(engine), days)
    except UnreadableDatabaseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(
        f"Image store {store.url}: {summary.deleted} images deleted, {summary.kept} kept, "
        f"{summary.leftovers} leftover temporary files removed (retention {days} days)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
