"""Check and decode uploaded product images in memory: colour JPEG only, capped in size.

Colour JPEGs are what the logged models read (:mod:`product_classifier.preprocessing.image`,
shared with them): a baseline or progressive JPEG, an MPO (a JPEG with extra frames, as phones
save photos: its first frame) and a CMYK JPEG (converted to RGB). Anything else is refused.

The checks run on the header before any pixel is decoded, so an oversized upload or a
decompression bomb (a small file claiming a huge picture) is refused quickly and cheaply. A
picture much larger than the model reads is decoded at a reduced scale (JPEG draft mode), and
the decoded pixels of a whole request are capped (:class:`PixelBudget`), so that a batch of
large photos cannot exhaust the memory.
"""

import binascii
import hashlib
import re
from dataclasses import dataclass, field
from typing import Final

from PIL import Image

from app.telemetry.tracing import SpanName, image_attributes, traced
from product_classifier.preprocessing.image import (
    COLOUR_MODES,
    JPEG_FORMATS,
    ImageDecodingError,
    decode_rgb,
    open_image,
    reduce_while_decoding,
)

INVALID_EXTENSION: Final = "Invalid image extension. Image must be in JPEG or JPG format."
INVALID_FORMAT: Final = "Invalid image format. Image must be in JPEG or JPG format and colored."
JPEG_EXTENSIONS: Final = (".jpg", ".jpeg")


class ImageRejectedError(Exception):
    """The image breaks a rule; ``status_code`` is 400 (bad content) or 413 (too large)."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail


@dataclass(frozen=True, slots=True)
class DecodedImage:
    """A decoded RGB image and what is stored about the upload.

    ``width`` and ``height`` are the picture's own size, upright (an EXIF orientation that
    turns the photo is applied); ``image`` may be smaller (decoded at a reduced scale when the
    model reads a small image).
    """

    image: Image.Image
    sha256: str
    size_bytes: int
    width: int
    height: int
    data: bytes = field(repr=False, compare=False)
    """The file exactly as received (what the image store keeps)."""


class PixelBudget:
    """The decoded pixels one request may still use, across all its images.

    Args:
        limit: The most pixels (width x height, summed over the decoded images).
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def spend(self, pixels: int) -> None:
        """Count the pixels of one more decoded image.

        Raises:
            ImageRejectedError: 413 when the request would go over its limit.
        """
        if self.used + pixels > self.limit:
            raise ImageRejectedError(
                413,
                f"Images too large for one request: decoding them needs more than "
                f"{self.limit} pixels (MAX_REQUEST_PIXELS). Send fewer or smaller images.",
            )
        self.used += pixels


DECODE_MARGIN: Final = 2
"""Pictures are decoded with at least this many times the model's input side (when JPEG
scaling allows), so that cutting white borders still leaves enough pixels."""


def decode_side(predictor: object) -> int | None:
    """The smallest picture side worth decoding for a model.

    Args:
        predictor: The served model's predictor (its ``config`` is the logged model's
            :class:`~product_classifier.serving.pyfunc.ServingConfig`, read without importing
            MLflow here).

    Returns:
        :data:`DECODE_MARGIN` times the side of the model's square input; 1 when the model
        reads no image (the picture is only checked); ``None`` (full size) when unknown.
    """
    config = getattr(predictor, "config", None)
    reads_image = getattr(config, "reads_image", None)
    image_size = getattr(config, "image_size", None)
    if not isinstance(reads_image, bool):
        return None
    if not reads_image or not isinstance(image_size, int):
        return 1
    return DECODE_MARGIN * image_size


def has_jpeg_extension(filename: str | None) -> bool:
    """Tell whether a file name ends with ``.jpg`` or ``.jpeg`` (any case)."""
    return bool(filename) and str(filename).lower().endswith(JPEG_EXTENSIONS)


def too_large(size: int | str, maximum: int, unit: str) -> ImageRejectedError:
    """Return the 413 error for an image over its limit."""
    return ImageRejectedError(413, f"Image too large: {size} {unit} (maximum {maximum} {unit}).")


def _declared_pixels(error: Image.DecompressionBombError) -> int | str:
    """The picture size Pillow refused to open, as its message states it.

    Pillow refuses, before our own limit is checked, a header declaring more than twice its
    ``Image.MAX_IMAGE_PIXELS`` (``"Image size (N pixels) exceeds limit of ..."``).
    """
    found = re.search(r"\((\d+) pixels\)", str(error))
    return int(found.group(1)) if found else "more than 2 x Image.MAX_IMAGE_PIXELS"


@traced(SpanName.IMAGE_DECODE, image_attributes)
def decode_jpeg(
    data: bytes,
    *,
    max_bytes: int,
    max_pixels: int,
    min_side: int | None = None,
    budget: PixelBudget | None = None,
) -> DecodedImage:
    """Check that ``data`` is a colour JPEG within the limits, then decode it to RGB.

    Args:
        data: The encoded file.
        max_bytes: Largest accepted file, in bytes.
        max_pixels: Largest accepted picture, in pixels (width x height).
        min_side: Decode at a reduced scale keeping at least this many pixels on each side
            (see :func:`decode_side`); ``None``: full size.
        budget: The request's decoded pixels, charged before decoding.

    Raises:
        ImageRejectedError: 413 for a file or picture over its limit, or a request over its
            pixel budget; 400 for anything that is not a readable colour JPEG.
    """
    if len(data) > max_bytes:
        raise too_large(len(data), max_bytes, "bytes")
    try:
        with open_image(data) as opened:
            if opened.format not in JPEG_FORMATS or opened.mode not in COLOUR_MODES:
                raise ImageRejectedError(400, INVALID_FORMAT)
            width, height = opened.size
            if width * height > max_pixels:
                raise too_large(width * height, max_pixels, "pixels")
            if min_side is not None:
                reduce_while_decoding(opened, min_side)
            if budget is not None:
                budget.spend(opened.size[0] * opened.size[1])
            decoded_size = opened.size
            image = decode_rgb(opened)
            if image.size != decoded_size:  # turned upright by its EXIF orientation
                width, height = height, width
    except ImageDecodingError as error:
        if isinstance(error.__cause__, Image.DecompressionBombError):
            raise too_large(_declared_pixels(error.__cause__), max_pixels, "pixels") from error
        raise ImageRejectedError(400, INVALID_FORMAT) from error
    return DecodedImage(
        image=image,
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        width=width,
        height=height,
        data=data,
    )


def decode_base64_jpeg(
    encoded: str,
    *,
    max_bytes: int,
    max_pixels: int,
    min_side: int | None = None,
    budget: PixelBudget | None = None,
) -> DecodedImage:
    """Decode a base64 string (an optional ``data:image/jpeg;base64,`` prefix is allowed).

    The keyword arguments are :func:`decode_jpeg`'s.

    Raises:
        ImageRejectedError: 413 when the decoded file would exceed ``max_bytes``; 400 for
            invalid base64 or anything :func:`decode_jpeg` refuses.
    """
    payload = encoded.split(",", 1)[1] if encoded.startswith("data:") else encoded
    payload = "".join(payload.split())  # line breaks of MIME-style base64
    # Four base64 characters carry three bytes, less one per "=" of padding: refuse before
    # allocating the decoded bytes (the size of valid base64 exactly).
    estimated = len(payload) * 3 // 4 - (len(payload) - len(payload.rstrip("=")))
    if estimated > max_bytes:
        raise too_large(estimated, max_bytes, "bytes")
    try:
        data = binascii.a2b_base64(payload, strict_mode=True)
    except (binascii.Error, ValueError) as error:
        raise ImageRejectedError(400, f"{INVALID_FORMAT} (invalid base64)") from error
    return decode_jpeg(
        data, max_bytes=max_bytes, max_pixels=max_pixels, min_side=min_side, budget=budget
    )
