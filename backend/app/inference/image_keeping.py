"""Keep the images the API is sent, in the image store, without ever failing a prediction.

Every uploaded image (``POST /predict/`` and ``POST /predict/batch``) is written once to the
:class:`~product_classifier.image_store.ImageStore` under its SHA-256, the digest its stored
prediction keeps, before the answer is sent. When the store cannot be written the prediction
is still answered: the failure is logged and counted in ``image_store_writes_total{outcome=
"failed"}``, and that prediction has no image to read back or to export.
"""

import logging
from collections.abc import Iterable
from typing import Final

from prometheus_client import Counter

from app.core.config import Settings
from app.inference.images import DecodedImage
from product_classifier.image_store import ImageStore

logger = logging.getLogger(__name__)

IMAGE_STORE_WRITES: Final = Counter(
    "image_store_writes",
    "Uploaded images given to the image store, by outcome: stored (new), present (kept "
    "already), failed (the store could not be written; the prediction was still answered).",
    ["outcome"],
)


def open_image_store(settings: Settings) -> ImageStore | None:
    """The configured image store, or ``None`` when ``IMAGE_STORE_ENABLED`` is false."""
    if not settings.IMAGE_STORE_ENABLED:
        return None
    return ImageStore(settings.image_store_url)


def keep_images(store: ImageStore | None, images: Iterable[DecodedImage | None]) -> None:
    """Write each distinct image to ``store`` (nothing when the store is off).

    Args:
        store: The image store, ``None`` when disabled.
        images: The decoded uploads of one request (``None`` for products without an image).
    """
    if store is None:
        return
    seen: set[str] = set()
    for image in images:
        if image is None or image.sha256 in seen:
            continue
        seen.add(image.sha256)
        try:
            written = store.put(image.data, image.sha256)
        except Exception:
            logger.exception("Cannot keep image %s in the image store %s", image.sha256, store.url)
            IMAGE_STORE_WRITES.labels("failed").inc()
            continue
        IMAGE_STORE_WRITES.labels("stored" if written else "present").inc()
