"""The statistics of ``benchmarks.compare_text_baseline``: paired intervals over folds and rows."""

import numpy as np
import pytest
from benchmarks.compare_text_baseline import bootstrap_interval, paired_interval
from scipy import stats


def test_paired_interval_is_the_t_interval_and_the_corrected_one_is_wider() -> None:
    differences = [0.03, 0.01, 0.02, -0.01, 0.04, 0.02, 0.00, 0.03, 0.01, 0.02]
    interval = paired_interval(differences, test_to_train=0.25)
    half = stats.t.ppf(0.975, 9) * np.std(differences, ddof=1) / np.sqrt(10)
    mean = float(np.mean(differences))
    assert interval.mean == pytest.approx(mean)
    assert interval.plain == pytest.approx((mean - half, mean + half))
    corrected = stats.t.ppf(0.975, 9) * np.sqrt(np.var(differences, ddof=1) * (1 / 10 + 0.25))
    assert interval.corrected[1] - interval.mean == pytest.approx(corrected)
    assert interval.corrected[0] < interval.plain[0] < interval.mean < interval.plain[1]


def test_bootstrap_interval_of_a_clearly_better_model_is_above_zero() -> None:
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 5, size=300)
    better = labels.copy()
    better[:30] = (labels[:30] + 1) % 5  # 90% right
    worse = labels.copy()
    worse[:120] = (labels[:120] + 1) % 5  # 60% right
    low, high = bootstrap_interval(labels, better, worse, seed=0)
    assert 0 < low < high
    assert bootstrap_interval(labels, better, better, seed=0) == (0.0, 0.0)
