"""Images for tests: real JPEGs in several modes, wrong formats, and decompression bombs."""

import io
import struct

import numpy as np
from PIL import Image


def image_bytes(mode: str = "RGB", size: tuple[int, int] = (64, 48), fmt: str = "JPEG") -> bytes:
    """Encode a small gradient picture (so that it is not uniform) in ``mode`` and ``fmt``."""
    image = Image.linear_gradient("L").resize(size).convert(mode)
    if mode == "RGB":
        image = Image.merge(
            "RGB", (image.getchannel(0), image.getchannel(0).rotate(90), image.getchannel(0))
        )
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def with_jpeg_dimensions(data: bytes, width: int, height: int) -> bytes:
    """Rewrite the frame header of a JPEG to claim another size (a decompression bomb)."""
    for marker in (b"\xff\xc0", b"\xff\xc2"):
        position = data.find(marker)
        if position >= 0:
            # Marker (2), segment length (2), precision (1), then height and width (2 each).
            start = position + 5
            return data[:start] + struct.pack(">HH", height, width) + data[start + 4 :]
    raise ValueError("No JPEG frame header found")


def noisy_jpeg(size: tuple[int, int]) -> bytes:
    """Encode random pixels: a JPEG that compresses badly, for size limits."""
    pixels = np.random.default_rng(0).integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def mpo_bytes(
    size: tuple[int, int] = (64, 48), colours: tuple[str, ...] = ("red", "blue")
) -> bytes:
    """A multi-picture JPEG (MPO, as phones save photos): one frame per colour, first first."""
    frames = [Image.new("RGB", size, colour) for colour in colours]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="MPO", save_all=True, append_images=frames[1:])
    return buffer.getvalue()


def cmyk_jpeg_bytes(
    size: tuple[int, int] = (64, 48), ink: tuple[int, int, int, int] = (0, 255, 255, 0)
) -> bytes:
    """A CMYK JPEG (as print workflows save catalogue photos) of one ink colour (default red)."""
    buffer = io.BytesIO()
    Image.new("CMYK", size, ink).save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()
