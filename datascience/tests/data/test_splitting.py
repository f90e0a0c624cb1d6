"""Stratified train / test / remaining split."""

import numpy as np
import pandas as pd
import pytest

from product_classifier.data.splitting import check_split_sizes, stratified_split


def _labels() -> "pd.Series[int]":
    sizes = {10: 1, 40: 2, 50: 3, 60: 7, 2583: 120, 1560: 45, 2705: 22}
    codes = np.repeat(list(sizes), list(sizes.values()))
    shuffled = np.random.default_rng(0).permutation(codes)
    return pd.Series(shuffled, index=pd.RangeIndex(1000, 1000 + len(codes)) * 3)


def test_parts_partition_the_rows_in_original_order() -> None:
    y = _labels()
    split = stratified_split(y, 0.6, 0.2, random_state=1)
    parts = [split.train, split.test, split.remaining]
    assert sum(len(part) for part in parts) == len(y)
    assert set().union(*map(set, parts)) == set(y.index)
    for part in parts:
        assert part.is_monotonic_increasing
    assert abs(len(split.test) - 0.2 * len(y)) <= 3
    assert abs(len(split.train) - 0.6 * len(y)) <= 3


def test_each_category_is_split_in_proportion() -> None:
    y = _labels()
    split = stratified_split(y, 0.8, 0.2, random_state=7)
    assert len(split.remaining) == 0
    for code, count in y.value_counts().items():
        in_test = int((y.loc[split.test] == code).sum())
        in_train = int((y.loc[split.train] == code).sum())
        assert in_test + in_train == count
        if count >= 5:
            assert abs(in_test - 0.2 * count) <= 1, code


def test_small_categories_are_handled_and_reported() -> None:
    y = _labels()
    split = stratified_split(y, 0.5, 0.1, random_state=3)
    assert split.unsplit_categories == (10,)
    assert (y.loc[split.train] == 10).sum() == 1  # the single row is learned, not scored
    for code in (40, 50, 60):  # two rows or more: at least one in train and one in test
        assert (y.loc[split.train] == code).sum() >= 1
        assert (y.loc[split.test] == code).sum() >= 1


def test_split_is_deterministic_per_random_state() -> None:
    y = _labels()
    first = stratified_split(y, 0.7, 0.3, random_state=5)
    again = stratified_split(y, 0.7, 0.3, random_state=5)
    other = stratified_split(y, 0.7, 0.3, random_state=6)
    assert first.test.equals(again.test)
    assert first.train.equals(again.train)
    assert not first.test.equals(other.test)


@pytest.mark.parametrize(
    ("train", "test", "message"),
    [
        (0.9, 0.2, "exceeds 1"),
        (0.0, 0.2, "train size must be between 0 and 1"),
        (0.8, 1.0, "test size must be between 0 and 1"),
        (-0.1, 0.2, "train size"),
    ],
)
def test_invalid_sizes_are_refused(train: float, test: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_split_sizes(train, test)


def test_floating_point_sum_of_one_is_accepted() -> None:
    check_split_sizes(0.7, 0.3)
    y = _labels()
    split = stratified_split(y, 0.7, 0.3, random_state=0)
    assert len(split.remaining) == 0
