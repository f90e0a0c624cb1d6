"""Image handling shared by dataset creation (training) and the logged models (serving).

Any PIL-readable picture is decoded to RGB (:func:`load_rgb_image`), its outer near-white
borders are cut (:func:`crop_white_borders`) and it is resized into a white square keeping its
ratio (:func:`fit_to_square`). :func:`optimise_image` chains the two last steps; it is (nearly)
idempotent, so applying it again to an already optimised image changes nothing that matters.
"""

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Final

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

DEFAULT_IMAGE_SIZE: Final = 224
"""Side in pixels of the square images the image models read."""

WHITE_THRESHOLD: Final = 240
"""A pixel whose channels are all at least this value counts as white border."""

JPEG_QUALITY: Final = 90
"""Quality of the optimised JPEG files."""

JPEG_FORMATS: Final = frozenset({"JPEG", "MPO"})
"""Pillow's names of JPEG files. MPO is a JPEG with extra frames (phone photos, 3D cameras):
Pillow reads its first frame, the picture itself."""
COLOUR_MODES: Final = frozenset({"RGB", "CMYK", "YCbCr"})
"""Modes of colour pictures (CMYK: catalogue photos from print workflows), converted to RGB."""

_WHITE: Final = (255, 255, 255)
_EXIF_ORIENTATION: Final = 0x0112


class ImageDecodingError(ValueError):
    """Raised for data that is not a readable image.

    Attributes:
        source: What was read (a path, or a description of bytes or a stream).
        reason: Why it could not be decoded, without the source.
    """

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"Unreadable image {source}: {reason}")
        self.source = source
        self.reason = reason


def _describe(source: str | Path | bytes | IO[bytes]) -> str:
    if isinstance(source, str | Path):
        return str(source)
    if isinstance(source, bytes):
        return f"<{len(source)} bytes>"
    return str(getattr(source, "name", "<stream>"))


def _to_rgb(image: Image.Image) -> Image.Image:
    """Convert any PIL mode to RGB, compositing transparent pixels on white."""
    if image.mode == "RGB":
        return image
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        values = np.asarray(image, dtype=np.float64)
        top = float(values.max()) if values.size else 0.0
        if top > 255.0:
            values = values * (255.0 / top)
        image = Image.fromarray(np.clip(values, 0, 255).astype(np.uint8), mode="L")
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        image.mode == "P" and "transparency" in image.info
    )
    if has_alpha:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (*_WHITE, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def _upright(image: Image.Image) -> Image.Image:
    """Apply the EXIF orientation of a photo; ignore EXIF data that cannot be parsed."""
    try:
        if image.getexif().get(_EXIF_ORIENTATION, 1) == 1:
            return image
        return ImageOps.exif_transpose(image)
    except Exception:  # broken EXIF must not make a readable image unreadable
        return image


@contextmanager
def open_image(source: str | Path | bytes | IO[bytes]) -> Iterator[Image.Image]:
    """Open an image (reading its header only) for the block, as :func:`load_rgb_image` does.

    Decoding errors inside the block (:func:`decode_rgb`) are reported the same way.

    Args:
        source: A path, the encoded bytes, or a binary file object.

    Raises:
        ImageDecodingError: The data is missing, truncated or not an image.
    """
    stream: str | Path | IO[bytes] = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        # Leaving the block closes a file Pillow opened, and only that; decoded pixels stay.
        with Image.open(stream) as opened:
            yield opened
    except FileNotFoundError:
        raise ImageDecodingError(_describe(source), "file not found") from None
    except UnidentifiedImageError as error:
        reason = "not an image, or a format Pillow cannot read"
        raise ImageDecodingError(_describe(source), reason) from error
    except Image.DecompressionBombError as error:
        raise ImageDecodingError(_describe(source), f"too large ({error})") from error
    except (OSError, SyntaxError, ValueError) as error:
        reason = str(error) or type(error).__name__
        raise ImageDecodingError(_describe(source), reason) from error


def reduce_while_decoding(opened: Image.Image, min_side: int) -> tuple[int, int]:
    """Let a JPEG decoder scale the picture down while it decodes (1/2, 1/4 or 1/8).

    JPEG stores 8x8 blocks of frequencies, so a smaller picture costs a fraction of the time
    and memory of the full one. The picture keeps at least ``min_side`` pixels on each side
    (never less than it has); other formats are decoded at full size.

    Args:
        opened: An image opened but not decoded yet (see :func:`open_image`).
        min_side: Fewest pixels wanted on each side.

    Returns:
        The ``(width, height)`` that decoding will produce.
    """
    if opened.format in JPEG_FORMATS:
        opened.draft(opened.mode, (min_side, min_side))
    return opened.size


def decode_rgb(opened: Image.Image) -> Image.Image:
    """Decode an opened image (its first frame) into an upright RGB image.

    CMYK, grayscale and palette images are converted; transparent pixels are composited on
    white; an EXIF orientation is applied.
    """
    opened.load()
    return _to_rgb(_upright(opened))


def load_rgb_image(
    source: str | Path | bytes | IO[bytes], *, min_side: int | None = None
) -> Image.Image:
    """Decode an image of any PIL-readable format and mode into RGB.

    The file name does not matter (a PNG named ``.jpg`` is read as PNG). CMYK, grayscale and
    palette images are converted; transparent pixels are composited on white; an EXIF
    orientation is applied; a multi-frame file (MPO, GIF, TIFF) gives its first frame.

    Args:
        source: A path, the encoded bytes, or a binary file object.
        min_side: When given, a JPEG is decoded at a reduced scale that keeps at least this
            many pixels on each side (:func:`reduce_while_decoding`).

    Returns:
        A fully loaded RGB image.

    Raises:
        ImageDecodingError: The data is missing, truncated or not an image.
    """
    with open_image(source) as opened:
        if min_side is not None:
            reduce_while_decoding(opened, min_side)
        return decode_rgb(opened)


def content_box(image: Image.Image, threshold: int = WHITE_THRESHOLD) -> tuple[int, int, int, int]:
    """Return the bounding box ``(left, top, right, bottom)`` of the non-white pixels.

    Args:
        image: An RGB or grayscale image.
        threshold: Pixels with every channel at or above it are white.

    Returns:
        The box of the content, or the whole image when it is entirely white.
    """
    pixels = np.asarray(image)
    if pixels.ndim == 3:
        # Channel-wise minimum: np.minimum on the planes is much faster than min(axis=2).
        pixels = np.minimum(np.minimum(pixels[..., 0], pixels[..., 1]), pixels[..., 2])
    content = pixels < threshold
    rows = np.flatnonzero(content.any(axis=1))
    if rows.size == 0:
        return (0, 0, image.width, image.height)
    columns = np.flatnonzero(content.any(axis=0))
    return (int(columns[0]), int(rows[0]), int(columns[-1]) + 1, int(rows[-1]) + 1)


def crop_white_borders(image: Image.Image, threshold: int = WHITE_THRESHOLD) -> Image.Image:
    """Cut the outer near-white borders of an image.

    Args:
        image: An RGB or grayscale image.
        threshold: Pixels with every channel at or above it are white.

    Returns:
        The image cropped to its content; an image without border, or entirely white, is
        returned as is.
    """
    box = content_box(image, threshold)
    if box == (0, 0, image.width, image.height):
        return image
    return image.crop(box)


def fit_to_square(image: Image.Image, size: int) -> Image.Image:
    """Resize an image into a ``size`` x ``size`` white square, keeping its ratio, centred.

    Args:
        image: An RGB image (other modes are converted).
        size: Side of the square in pixels.

    Returns:
        A new RGB image of ``size`` x ``size``.
    """
    if size < 1:
        raise ValueError(f"Image size must be positive, got {size}.")
    image = _to_rgb(image)
    scale = size / max(image.width, image.height)
    width = min(size, max(1, round(image.width * scale)))
    height = min(size, max(1, round(image.height * scale)))
    if (width, height) != image.size:
        image = image.resize((width, height), Image.Resampling.BICUBIC)
    if (width, height) == (size, size):
        return image.copy() if image.mode == "RGB" else image.convert("RGB")
    square = Image.new("RGB", (size, size), _WHITE)
    square.paste(image, ((size - width) // 2, (size - height) // 2))
    return square


def optimise_image(image: Image.Image, size: int = DEFAULT_IMAGE_SIZE) -> Image.Image:
    """Cut the white borders, then fit into a white ``size`` x ``size`` square.

    Args:
        image: A decoded image (see :func:`load_rgb_image`).
        size: Side of the output square in pixels.

    Returns:
        The optimised RGB image.
    """
    return fit_to_square(crop_white_borders(_to_rgb(image)), size)


def save_jpeg(image: Image.Image, destination: Path) -> None:
    """Save an RGB image as a JPEG file (quality :data:`JPEG_QUALITY`)."""
    image.save(destination, format="JPEG", quality=JPEG_QUALITY)


def optimise_image_file(source: Path, destination: Path, size: int = DEFAULT_IMAGE_SIZE) -> None:
    """Read an image file, optimise it and save it as JPEG.

    Args:
        source: Any PIL-readable image file.
        destination: Where to write the optimised JPEG.
        size: Side of the output square in pixels.

    Raises:
        ImageDecodingError: ``source`` is not a readable image.
    """
    save_jpeg(optimise_image(load_rgb_image(source), size), destination)
