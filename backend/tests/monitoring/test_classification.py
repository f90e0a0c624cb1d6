"""Accuracy and weighted F1 agree with scikit-learn."""

from collections import Counter

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score

from app.monitoring.classification import accuracy, weighted_f1


@pytest.mark.parametrize("seed", range(5))
def test_matches_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    real = rng.choice([10, 40, 50, 60, 1140], size=200).tolist()
    pred = [r if rng.random() < 0.6 else int(rng.choice([10, 40, 2905])) for r in real]
    pairs = Counter(zip(real, pred, strict=True))
    assert accuracy(pairs) == pytest.approx(accuracy_score(real, pred))
    assert weighted_f1(pairs) == pytest.approx(f1_score(real, pred, average="weighted"))


def test_empty_is_zero():
    assert accuracy({}) == 0.0
    assert weighted_f1({}) == 0.0


def test_perfect_and_hand_checked():
    assert weighted_f1({(10, 10): 3, (40, 40): 1}) == 1.0
    # Category 10: precision 1/2, recall 1/1 -> F1 2/3 with weight 1; category 40: F1 0.
    assert weighted_f1({(10, 10): 1, (40, 10): 1}) == pytest.approx((2 / 3) / 2)
