"""Bound how long the image store keeps images: ``IMAGE_STORE_RETENTION_DAYS``.

An image is kept while a prediction younger than the retention refers to it (by its SHA-256),
so an image sent again today is kept even if it was first stored long ago. Older images, and
temporary files left by an interrupted write, are deleted. The purge runs once in the
background when the API starts, and on demand with ``python -m scripts.purge_images`` (from
``backend/``, e.g. daily from cron). It is idempotent: several instances may run it at once.
"""

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from app.core.config import Settings
from app.db.crud.predictions import recently_referenced_digests
from product_classifier.image_store import ImageStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PurgeSummary:
    """What one purge did."""

    deleted: int
    """Images removed (no prediction within the retention refers to them)."""
    kept: int
    """Images kept (stored, or referred to by a prediction, within the retention)."""
    leftovers: int
    """Temporary files of interrupted writes removed."""


def purge_expired_images(
    store: ImageStore,
    session_factory: sessionmaker[Session],
    retention_days: int,
    now: datetime | None = None,
) -> PurgeSummary:
    """Delete the images no prediction of the last ``retention_days`` days refers to.

    Args:
        store: The image store.
        session_factory: Sessions on the application database (predictions are read only).
        retention_days: The retention, in days (positive).
        now: The current time (default: now, UTC).

    Returns:
        How many images were deleted and kept, and how many leftovers were removed.

    Raises:
        ValueError: ``retention_days`` is not positive.
    """
    if retention_days <= 0:
        raise ValueError(f"retention_days must be positive, got {retention_days}")
    cutoff = (now or datetime.now(UTC)) - timedelta(days=retention_days)
    old_images: dict[str, str] = {}
    kept = leftovers = 0
    for stored in store.objects():
        if stored.modified >= cutoff:
            kept += stored.digest is not None
        elif stored.digest is None:
            store.delete(stored.path)
            leftovers += 1
        else:
            old_images[stored.digest] = stored.path
    with session_factory() as session:
        recent = recently_referenced_digests(session, sorted(old_images), cutoff)
    expired = [path for digest, path in old_images.items() if digest not in recent]
    for path in expired:
        store.delete(path)
    summary = PurgeSummary(deleted=len(expired), kept=kept + len(recent), leftovers=leftovers)
    logger.info(
        "Image store %s: %d images older than %d days deleted, %d kept, %d leftovers removed",
        store.url,
        summary.deleted,
        retention_days,
        summary.kept,
        summary.leftovers,
    )
    return summary


def start_purge_thread(
    store: ImageStore | None, session_factory: sessionmaker[Session], settings: Settings
) -> threading.Thread | None:
    """Purge expired images once, in a background thread, when a retention is set.

    Returns:
        The started thread, or ``None`` when there is no store or no retention.
    """
    if store is None or settings.IMAGE_STORE_RETENTION_DAYS == 0:
        return None

    def purge() -> None:
        try:
            purge_expired_images(store, session_factory, settings.IMAGE_STORE_RETENTION_DAYS)
        except Exception:
            logger.exception("Purging the image store %s failed", store.url)

    thread = threading.Thread(target=purge, name="image-store-purge", daemon=True)
    thread.start()
    return thread
