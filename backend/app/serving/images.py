"""Check and decode uploaded product images in memory: colour JPEG only, capped in size.

The checks run on the header before any pixel is decoded, so an oversized upload or a
decompression bomb (a small file claiming a huge picture) is refused quickly and cheaply.
The decoding itself is the training pipeline's (:func:`load_rgb_image`).
"""

import binascii
import hashlib
import io
from dataclasses import dataclass
from typing import Final

from PIL import Image, UnidentifiedImageError

from app.telemetry.tracing import SpanName, image_attributes, traced
from product_classifier.preprocessing.image import ImageDecodingError, load_rgb_image

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
    """A decoded RGB image and what is stored about the upload."""

    image: Image.Image
    sha256: str
    size_bytes: int
    width: int
    height: int


def has_jpeg_extension(filename: str | None) -> bool:
    """Tell whether a file name ends with ``.jpg`` or ``.jpeg`` (any case)."""
    return bool(filename) and str(filename).lower().endswith(JPEG_EXTENSIONS)


def too_large(size: int, maximum: int, unit: str) -> ImageRejectedError:
    """Return the 413 error for an image over its limit."""
    return ImageRejectedError(413, f"Image too large: {size} {unit} (maximum {maximum} {unit}).")


@traced(SpanName.IMAGE_DECODE, image_attributes)
def decode_jpeg(data: bytes, *, max_bytes: int, max_pixels: int) -> DecodedImage:
    """Check that ``data`` is a colour JPEG within the limits, then decode it to RGB.

    Args:
        data: The encoded file.
        max_bytes: Largest accepted file, in bytes.
        max_pixels: Largest accepted picture, in pixels (width x height).

    Raises:
        ImageRejectedError: 413 for a file or picture over its limit; 400 for anything that
            is not a readable colour (RGB) JPEG.
    """
    if len(data) > max_bytes:
        raise too_large(len(data), max_bytes, "bytes")
    try:
        with Image.open(io.BytesIO(data)) as header:
            image_format, mode, (width, height) = header.format, header.mode, header.size
    except Image.DecompressionBombError as error:
        raise ImageRejectedError(413, f"Image too large: {error}") from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise ImageRejectedError(400, INVALID_FORMAT) from error
    if image_format != "JPEG" or mode != "RGB":
        raise ImageRejectedError(400, INVALID_FORMAT)
    if width * height > max_pixels:
        raise too_large(width * height, max_pixels, "pixels")
    try:
        image = load_rgb_image(data)
    except ImageDecodingError as error:
        raise ImageRejectedError(400, INVALID_FORMAT) from error
    return DecodedImage(
        image=image,
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        width=width,
        height=height,
    )


def decode_base64_jpeg(encoded: str, *, max_bytes: int, max_pixels: int) -> DecodedImage:
    """Decode a base64 string (an optional ``data:image/jpeg;base64,`` prefix is allowed).

    Raises:
        ImageRejectedError: 413 when the decoded file would exceed ``max_bytes``; 400 for
            invalid base64 or anything :func:`decode_jpeg` refuses.
    """
    payload = encoded.split(",", 1)[1] if encoded.startswith("data:") else encoded
    payload = "".join(payload.split())  # line breaks of MIME-style base64
    # Four base64 characters carry three bytes: refuse before allocating the decoded bytes.
    estimated = len(payload) * 3 // 4
    if estimated > max_bytes + 3:
        raise too_large(estimated, max_bytes, "bytes")
    try:
        data = binascii.a2b_base64(payload, strict_mode=True)
    except (binascii.Error, ValueError) as error:
        raise ImageRejectedError(400, f"{INVALID_FORMAT} (invalid base64)") from error
    return decode_jpeg(data, max_bytes=max_bytes, max_pixels=max_pixels)
