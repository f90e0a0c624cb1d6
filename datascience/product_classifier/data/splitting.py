"""Stratified train / test / remaining split of a labelled table.

Each category is split in the requested proportions (largest-remainder rounding, so the split
sizes match the requested shares). Categories too small for that are handled explicitly:

* a category with a single row cannot be both learned and scored: its row goes to train, and the
  category is reported as *unsplit*;
* a category with two rows or more always has at least one row in train and one in test.

The rows these minimums need are taken from the largest categories, so the split sizes stay as
requested; only when there are more categories than test rows does the test split grow.
"""

import logging
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

logger = logging.getLogger(__name__)

_TOLERANCE = 1e-9


@dataclass(frozen=True)
class SplitResult:
    """Row index values of each part, in the original row order.

    Attributes:
        train: Rows to train on.
        test: Rows to score the finished model on.
        remaining: Rows in neither split (when ``train_size + test_size < 1``).
        unsplit_categories: Categories with a single row, kept whole in train.
    """

    train: pd.Index
    test: pd.Index
    remaining: pd.Index
    unsplit_categories: tuple[int, ...]


def check_split_sizes(train_size: float, test_size: float) -> None:
    """Check requested split shares.

    Args:
        train_size: Share of rows in train, in ``(0, 1)``.
        test_size: Share of rows in test, in ``(0, 1)``.

    Raises:
        ValueError: A share is out of range or they add up to more than 1.
    """
    for name, value in (("train size", train_size), ("test size", test_size)):
        if not 0.0 < value < 1.0:
            raise ValueError(f"The {name} must be between 0 and 1 (exclusive), got {value}.")
    if train_size + test_size > 1.0 + _TOLERANCE:
        raise ValueError(
            f"Train size {train_size} + test size {test_size} = {train_size + test_size:g} "
            "exceeds 1."
        )


def _apportion(
    counts: npt.NDArray[np.int64], total: int, rng: np.random.Generator
) -> npt.NDArray[np.int64]:
    """Share ``total`` between classes in proportion to ``counts`` (largest remainder)."""
    available = int(counts.sum())
    if available == 0 or total <= 0:
        return np.zeros_like(counts)
    quotas = counts * (min(total, available) / available)
    shares = np.floor(quotas).astype(np.int64)
    missing = min(total, available) - int(shares.sum())
    if missing > 0:
        # Largest fractional part first; random order among equal parts.
        order = np.lexsort((rng.random(len(counts)), -(quotas - shares)))
        shares[order[:missing]] += 1
    capped: npt.NDArray[np.int64] = np.minimum(shares, counts)
    return capped


def _at_least_one(
    shares: npt.NDArray[np.int64], needed: npt.NDArray[np.bool_], total: int
) -> npt.NDArray[np.int64]:
    """Give one row to every class in ``needed`` that has none, keeping ``total`` if possible.

    The rows are taken back from the classes with the largest shares (never below one row).
    """
    shares = np.where(needed, np.maximum(shares, 1), shares)
    while int(shares.sum()) > total:
        largest = int(np.argmax(shares))
        if shares[largest] <= 1:
            break  # more classes than rows requested: every class keeps its one row
        shares[largest] -= 1
    return shares


def stratified_split(
    y: "pd.Series[int]", train_size: float, test_size: float, random_state: int
) -> SplitResult:
    """Split rows per category into train, test and remaining parts.

    Args:
        y: Category of each row (its index identifies the rows).
        train_size: Share of rows in train.
        test_size: Share of rows in test.
        random_state: Seed: the same inputs and seed always give the same split.

    Returns:
        The row index values of each part.

    Raises:
        ValueError: Invalid shares (see :func:`check_split_sizes`).
    """
    check_split_sizes(train_size, test_size)
    rng = np.random.default_rng(random_state)
    categories, codes_of_rows = np.unique(y.to_numpy(dtype=np.int64), return_inverse=True)
    counts = np.bincount(codes_of_rows, minlength=len(categories)).astype(np.int64)
    total = int(counts.sum())
    whole = abs(train_size + test_size - 1.0) <= _TOLERANCE

    n_test = round(total * test_size)
    splittable = counts >= 2  # one row to learn from, one to score on
    test = _at_least_one(_apportion(counts, n_test, rng), splittable, n_test)
    test = np.minimum(test, np.maximum(counts - 1, 0))
    if not test.any():
        logger.warning(
            "No row can go to test: no category has the two rows it takes to learn from one and "
            "score on another. A training needs test rows: merge these rows with others first."
        )
    left = counts - test
    if whole:
        train = left
    else:
        n_train = min(round(total * train_size), int(left.sum()))
        train = _at_least_one(_apportion(left, n_train, rng), left > 0, n_train)

    parts: dict[str, list[int]] = {"train": [], "test": [], "remaining": []}
    for category in range(len(categories)):
        positions = rng.permutation(np.flatnonzero(codes_of_rows == category))
        n_test, n_train = int(test[category]), int(train[category])
        parts["test"].extend(positions[:n_test].tolist())
        parts["train"].extend(positions[n_test : n_test + n_train].tolist())
        parts["remaining"].extend(positions[n_test + n_train :].tolist())

    unsplit = tuple(int(code) for code in categories[~splittable])
    if unsplit:
        logger.warning(
            "Categories with a single row, kept in train only (nothing to score them on): %s",
            ", ".join(map(str, unsplit)),
        )
    return SplitResult(
        train=y.index[np.sort(np.asarray(parts["train"], dtype=np.int64))],
        test=y.index[np.sort(np.asarray(parts["test"], dtype=np.int64))],
        remaining=y.index[np.sort(np.asarray(parts["remaining"], dtype=np.int64))],
        unsplit_categories=unsplit,
    )
