"""Check and decode uploaded product images in memory: colour JPEG only, capped in size.

Colour JPEGs are what the logged models read (:mod:`product_classifier.preprocessing.image`,
shared with them): a baseline or progressive JPEG, an MPO (a JPEG with extra frames, as phones
save photos: its first frame) and a CMYK JPEG (converted to RGB). Anything else is refused.
What the client declared of the format (the file name's extension, the multipart part's
``Content-Type``, a data URL's media type) must agree with the bytes: a refusal names what was
declared and the real format (:func:`format_mismatch`). Any content type declares something,
but for a generic one (``application/octet-stream``) or a wildcard: ``text/plain`` declares
text, which a JPEG is not.

The checks run on the header before any pixel is decoded, so an oversized upload or a
decompression bomb (a small file claiming a huge picture) is refused quickly and cheaply. A
picture much larger than the model reads is decoded at a reduced scale (JPEG draft mode), and
the decoded pixels of a whole request are capped (:class:`PixelBudget`), so that a batch of
large photos cannot exhaust the memory.
"""

import binascii
import functools
import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
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
FORMAT_MISMATCH: Final = (
    "Image format mismatch: the {declared} {verb} not match the image's real format, {real}. "
    "Send a JPEG named .jpg or .jpeg, with the content type image/jpeg (or none)."
)
FORMAT_MISMATCH_NOT_JPEG: Final = (
    "Invalid image format: the {declared} {verb} not match the image's real format, {real}. "
    "Image must be in JPEG or JPG format and colored."
)
EMPTY_IMAGE: Final = (
    "Empty image: the image file is empty (0 bytes). Send a colour JPEG, or no image at all."
)
JPEG: Final = "JPEG"
GENERIC_MEDIA_TYPES: Final = frozenset({"application/octet-stream", "image/*", "*/*"})
"""Content types that say nothing of an image's format."""
_MEDIA_TYPE_ALIASES: Final = {"image/jpg": JPEG, "image/pjpeg": JPEG, "image/x-png": "PNG"}


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


@dataclass(frozen=True, slots=True)
class Declaration:
    """What a client said an image's format is: a file name's extension or a content type."""

    what: str
    """How it was said, for messages: ``file name's extension .png``."""
    format: str | None
    """The format it names (Pillow's name, JPEG for any JPEG); ``None``: no image format."""


def _family(image_format: str | None) -> str | None:
    """Pillow's format name, JPEG for every JPEG kind (an MPO is a JPEG with extra frames)."""
    return JPEG if image_format in JPEG_FORMATS else image_format


@functools.cache
def _formats_by_media_type() -> dict[str, str]:
    """Pillow's format for each media type it registers, with common aliases (built once)."""
    Image.init()
    return {mime: name for name, mime in Image.MIME.items()} | _MEDIA_TYPE_ALIASES


def _media_type_format(media_type: str) -> str | None:
    return _family(_formats_by_media_type().get(media_type))


def declarations(
    filename: str | None, content_type: str | None, type_source: str = "declared content type"
) -> list[Declaration]:
    """What a file name's extension and a content type say of an image's format.

    A missing, generic (``application/octet-stream``) or wildcard (``image/*``) content type
    says nothing; any other declares a format, or no image format at all (``text/plain``), which
    the bytes of an image then contradict. Media types are read case-insensitively (RFC 2045).

    Args:
        filename: The file name sent with the image, if any.
        content_type: The content type (or media type) declared for the image, if any.
        type_source: What declared the content type, for messages.
    """
    found = []
    suffix = PurePosixPath(filename or "").suffix.lower()
    if suffix:
        Image.init()
        declared = _family(Image.registered_extensions().get(suffix))
        found.append(Declaration(f"file name's extension {suffix}", declared))
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type and media_type not in GENERIC_MEDIA_TYPES:
        found.append(Declaration(f"{type_source} {media_type}", _media_type_format(media_type)))
    return found


def real_format(data: bytes) -> str | None:
    """The format of an encoded image, read from its header (JPEG for any JPEG kind).

    Returns:
        Pillow's name of the format; ``None`` for bytes that are not an image Pillow opens.
    """
    try:
        with Image.open(io.BytesIO(data)) as opened:
            return _family(opened.format)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None


def _mismatch_message(real: str | None, declared: list[Declaration]) -> str | None:
    """:func:`format_mismatch`'s answer once the real format is known."""
    wrong = [item.what for item in declared if item.format != real]
    if real is None or not wrong:
        return None
    template = FORMAT_MISMATCH if real == JPEG else FORMAT_MISMATCH_NOT_JPEG
    return template.format(
        declared=" and the ".join(wrong), verb="does" if len(wrong) == 1 else "do", real=real
    )


def format_mismatch(data: bytes, declared: list[Declaration]) -> str | None:
    """Say which declarations of an image's format its bytes contradict, if any.

    Args:
        data: The encoded image.
        declared: What the client said its format is (:func:`declarations`).

    Returns:
        A message naming the declarations and the real format; ``None`` when none contradicts
        the bytes, or when the bytes are no image at all (nothing to compare with).
    """
    return _mismatch_message(real_format(data), declared) if declared else None


def wrong_name_message(data: bytes, filename: str | None, content_type: str | None) -> str:
    """The message refusing an image whose file name does not end with ``.jpg`` or ``.jpeg``.

    When the name's extension contradicts the bytes (a JPEG named ``.png``), the message says
    so, naming the extension (and the content type, if it is wrong too) and the real format.
    """
    real = real_format(data)
    if _mismatch_message(real, declarations(filename, None)) is None:
        return INVALID_EXTENSION
    return _mismatch_message(real, declarations(filename, content_type)) or INVALID_EXTENSION


def check_declared_format(data: bytes, declared: list[Declaration]) -> None:
    """Refuse an image whose file name's extension or content type contradicts its bytes.

    Raises:
        ImageRejectedError: 400 naming what was declared and the real format.
    """
    problem = format_mismatch(data, declared)
    if problem is not None:
        raise ImageRejectedError(400, problem)


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
            pixel budget; 400 for an empty file and anything that is not a readable colour
            JPEG.
    """
    if len(data) > max_bytes:
        raise too_large(len(data), max_bytes, "bytes")
    if not data:
        raise ImageRejectedError(400, EMPTY_IMAGE)
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


def split_data_url(encoded: str) -> tuple[str | None, str]:
    """Split a data URL (``data:image/jpeg;base64,...``, RFC 2397) into media type and payload.

    The scheme, the media type and the ``;base64`` marker are read in any case (RFC 2397 and
    RFC 2045 make them case-insensitive). A string that is no data URL (no ``data:`` scheme, or
    no comma after it) is all payload.

    Returns:
        The media type (``None`` when the URL names none, or for plain base64) and the payload.
    """
    header, comma, payload = encoded[5:].partition(",")
    if encoded[:5].lower() != "data:" or not comma:
        return None, encoded
    parameters = [part.strip() for part in header.split(";")]
    if parameters[-1].lower() == "base64":
        parameters.pop()
    media_type = parameters[0].lower() if parameters else ""
    return media_type or None, payload


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
            invalid base64, a data URL whose media type is not the image's real format (read
            in any case; ``text/plain`` too), or anything :func:`decode_jpeg` refuses (an
            empty image included).
    """
    media_type, payload = split_data_url(encoded)
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
    if len(data) <= max_bytes:
        check_declared_format(data, declarations(None, media_type, "data URL's media type"))
    return decode_jpeg(
        data, max_bytes=max_bytes, max_pixels=max_pixels, min_side=min_side, budget=budget
    )
