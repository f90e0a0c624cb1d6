"""Generate a synthetic dataset in the original Rakuten format (X.csv, y.csv, images/).

The sample is realistic enough for models to learn something without being trivially separable:
see :mod:`~product_classifier.synthetic.text` (titles and descriptions) and
:mod:`~product_classifier.synthetic.images` (photos). Categories follow the real class
imbalance. Everything is deterministic for a seed, whatever the number of worker processes.
"""

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd

from product_classifier.categories import CATEGORY_CODES
from product_classifier.data.formats import (
    FEATURE_COLUMNS,
    IMAGES_DIR,
    TARGET_COLUMN,
    X_FILE,
    Y_FILE,
    image_file_name,
)
from product_classifier.data.output_folder import atomic_output_dir
from product_classifier.data.parallel import parallel_map
from product_classifier.synthetic.images import SampleImageTask, write_sample_image
from product_classifier.synthetic.text import make_description, make_title, writing_category
from product_classifier.synthetic.vocabulary import REAL_CATEGORY_COUNTS

logger = logging.getLogger(__name__)

DEFAULT_N_PRODUCTS: Final = 3000
DEFAULT_SEED: Final = 42
MIN_ROWS_PER_CATEGORY: Final = 2
"""Every category gets at least this many products (when there are enough products)."""


def category_counts(
    n_products: int, weights: Mapping[int, int] = REAL_CATEGORY_COUNTS
) -> dict[int, int]:
    """Share ``n_products`` between the categories in proportion to ``weights``.

    Largest-remainder rounding makes the shares exact. When there are enough products, every
    category gets at least :data:`MIN_ROWS_PER_CATEGORY` (so it can be split), taken from the
    largest categories.

    Args:
        n_products: Number of products.
        weights: Relative frequency of each category code.

    Returns:
        Products per category code, summing to ``n_products``, in category order.
    """
    codes = [code for code in CATEGORY_CODES if code in weights]
    raw = np.array([weights[code] for code in codes], dtype=np.float64)
    quotas = raw / raw.sum() * n_products
    counts = np.floor(quotas).astype(np.int64)
    order = np.lexsort((np.arange(len(codes)), -(quotas - counts)))
    counts[order[: n_products - int(counts.sum())]] += 1
    if n_products >= MIN_ROWS_PER_CATEGORY * len(codes):
        while (short := np.flatnonzero(counts < MIN_ROWS_PER_CATEGORY)).size:
            counts[short[0]] += 1
            counts[int(np.argmax(counts))] -= 1
    return {code: int(count) for code, count in zip(codes, counts, strict=True)}


def _unique_ids(
    rng: np.random.Generator, count: int, low: int, high: int
) -> "np.ndarray[tuple[int], np.dtype[np.int64]]":
    return rng.choice(high - low, size=count, replace=False).astype(np.int64) + low


def generate_products(n_products: int, seed: int) -> tuple[pd.DataFrame, "pd.Series[int]"]:
    """Generate the text, ids and categories of a synthetic sample (no images).

    Args:
        n_products: Number of products (at least 1).
        seed: Random seed.

    Returns:
        ``(X, y)`` in the original format, indexed ``0..n_products - 1``.
    """
    if n_products < 1:
        raise ValueError(f"The number of products must be at least 1, got {n_products}.")
    rng = np.random.default_rng([seed, 0])
    counts = category_counts(n_products)
    ordered = np.repeat(np.array(list(counts), dtype=np.int64), list(counts.values()))
    labels = rng.permutation(ordered)
    titles: list[str] = []
    descriptions: list[str] = []
    for code in labels.tolist():
        words = writing_category(rng, code)
        title = make_title(rng, words)
        titles.append(title)
        descriptions.append(make_description(rng, words, title))
    features = pd.DataFrame(
        {
            "designation": titles,
            "description": descriptions,
            "productid": _unique_ids(rng, n_products, 1_000_000, 4_300_000_000),
            "imageid": _unique_ids(rng, n_products, 100_000_000, 1_400_000_000),
        },
        columns=list(FEATURE_COLUMNS),
    )
    return features, pd.Series(labels, name=TARGET_COLUMN, index=features.index)


@dataclass(frozen=True)
class SampleSummary:
    """What :func:`write_sample_dataset` wrote."""

    output_dir: Path
    n_products: int
    empty_descriptions: int
    seconds: float


def write_sample_dataset(
    output_dir: Path,
    n_products: int = DEFAULT_N_PRODUCTS,
    seed: int = DEFAULT_SEED,
    *,
    workers: int | None = None,
    overwrite: bool = False,
) -> SampleSummary:
    """Write a synthetic original data folder (``X.csv``, ``y.csv``, ``images/``).

    Args:
        output_dir: Folder to create (written atomically).
        n_products: Number of products.
        seed: Random seed: the same seed gives the same files, byte for byte.
        workers: Processes drawing images (default: the number of CPUs).
        overwrite: Replace an existing ``output_dir``.

    Returns:
        A summary of what was written.

    Raises:
        OutputExistsError: ``output_dir`` exists and ``overwrite`` is false.
    """
    started = time.perf_counter()
    features, targets = generate_products(n_products, seed)
    with atomic_output_dir(output_dir, overwrite=overwrite) as folder:
        features.to_csv(folder / X_FILE)
        targets.to_frame().to_csv(folder / Y_FILE)
        images_dir = folder / IMAGES_DIR
        images_dir.mkdir()
        tasks = [
            SampleImageTask(
                code, seed, index, str(images_dir / image_file_name(imageid, productid))
            )
            for index, (code, imageid, productid) in enumerate(
                zip(targets, features["imageid"], features["productid"], strict=True)
            )
        ]
        parallel_map(
            write_sample_image, tasks, workers=workers, description="Drawing images", unit="img"
        )
    summary = SampleSummary(
        output_dir=Path(output_dir),
        n_products=n_products,
        empty_descriptions=int((features["description"] == "").sum()),
        seconds=time.perf_counter() - started,
    )
    logger.info("Wrote %d products to %s in %.1f s", n_products, output_dir, summary.seconds)
    return summary
