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
