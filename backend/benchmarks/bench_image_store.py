"""Benchmark what keeping an uploaded image adds to a prediction, against decoding it.

Every ``POST /predict/`` with an image already checks and decodes it (:func:`decode_jpeg`);
keeping it adds one write to the image store (:func:`keep_images`): a new image is written to
a temporary file and renamed, an image kept already costs one existence check. This measures
both on a local folder (the default store) with 500 x 500 photos like the challenge's, and
prints median and p95 per image and the ratio to the decoding measured in the same run.

Usage (from backend/)::

    python -m benchmarks.bench_image_store [--images 200] [--store-url DIR_OR_URL]
"""

import argparse
import io
import statistics
import tempfile
import time
from typing import Final

import numpy as np
from PIL import Image

from app.inference.image_keeping import keep_images
from app.inference.images import DecodedImage, decode_jpeg
from benchmarks.arguments import positive_int
from product_classifier.image_store import ImageStore

SIDE: Final = 500
MAX_BYTES: Final = 5 * 1024 * 1024


def _photos(count: int) -> list[bytes]:
    """Distinct 500 x 500 JPEGs: smooth gradients plus noise, about a product photo's size."""
    rng = np.random.default_rng(0)
    ramp = np.linspace(0, 255, SIDE, dtype=np.float32)
    photos = []
    for _ in range(count):
        base = np.stack([ramp[None, :] * rng.random() + ramp[:, None] * rng.random()] * 3, -1)
        pixels = np.clip(base / 2 + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="JPEG", quality=90)
        photos.append(buffer.getvalue())
    return photos


def _keep_ms(store: ImageStore, image: DecodedImage) -> float:
    """Keep one image as a prediction does; return the time taken, in milliseconds."""
    started = time.perf_counter()
    keep_images(store, [image])
    return (time.perf_counter() - started) * 1000.0


def _decode(data: bytes) -> DecodedImage:
    return decode_jpeg(data, max_bytes=MAX_BYTES, max_pixels=16_000_000, min_side=128)


def _line(label: str, values: list[float], baseline: float) -> str:
    p50 = statistics.median(values)
    p95 = statistics.quantiles(values, n=20)[-1]
    return f"{label:<28} p50 {p50:7.3f} ms   p95 {p95:7.3f} ms   {p50 / baseline:5.2f} x decode p50"


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--images",
        metavar="N",
        type=positive_int,
        default=200,
        help="distinct photos (default: %(default)s)",
    )
    parser.add_argument("--store-url", help="store to write (default: a temporary folder)")
    args = parser.parse_args(argv)
    photos = _photos(args.images)
    with tempfile.TemporaryDirectory(prefix="bench-image-store-") as folder:
        store = ImageStore(args.store_url or folder)
        decode_ms: list[float] = []
        decoded: list[DecodedImage] = []
        for data in photos:
            started = time.perf_counter()
            decoded.append(_decode(data))
            decode_ms.append((time.perf_counter() - started) * 1000.0)
        new_ms = [_keep_ms(store, image) for image in decoded]
        present_ms = [_keep_ms(store, image) for image in decoded]
    baseline = statistics.median(decode_ms)
    size = statistics.median(len(data) for data in photos) / 1024
    print(f"{args.images} JPEGs of {SIDE} x {SIDE} (median {size:.0f} KiB), store {store.url}")
    print(_line("decode (already on the path)", decode_ms, baseline))
    print(_line("keep a new image", new_ms, baseline))
    print(_line("keep an image kept already", present_ms, baseline))


if __name__ == "__main__":
    main()
