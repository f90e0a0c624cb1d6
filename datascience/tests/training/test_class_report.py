"""Per-category scores and most confused pairs agree with scikit-learn on known predictions."""

import json

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from product_classifier.categories import CATEGORY_CODES, NUM_CATEGORIES
from product_classifier.training.class_report import (
    CONFUSED_PAIRS_CSV,
    PER_CLASS_CSV,
    PER_CLASS_JSON,
    most_confused_pairs,
    per_class_scores,
)
from product_classifier.training.evaluation import REPORT_TEXT, evaluate, write_reports


def _predictions() -> tuple[np.ndarray, np.ndarray]:
    """200 rows over every category; class 0 often taken for 1, class 2 sometimes for 3."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, NUM_CATEGORIES, size=200)
    predicted = labels.copy()
    predicted[labels == 0] = [1, 1, 1, 0, 1, 0, 1, 1, 0, 1][: int((labels == 0).sum())]
    twos = np.flatnonzero(labels == 2)
    predicted[twos[:2]] = 3
    noise = rng.choice(len(labels), size=10, replace=False)
    predicted[noise] = rng.integers(0, NUM_CATEGORIES, size=10)
    return labels, predicted


def test_per_class_scores_match_scikit_learn() -> None:
    labels, predicted = _predictions()
    classes = list(range(NUM_CATEGORIES))
    confusion = confusion_matrix(labels, predicted, labels=classes)
    precision, recall, f1, support = precision_recall_fscore_support(
        labels, predicted, labels=classes, zero_division=0
    )
    scores = per_class_scores(confusion)
    assert [score.code for score in scores] == list(CATEGORY_CODES)
    np.testing.assert_allclose([score.precision for score in scores], precision)
    np.testing.assert_allclose([score.recall for score in scores], recall)
    np.testing.assert_allclose([score.f1 for score in scores], f1)
    assert [score.support for score in scores] == support.tolist()
    assert [score.predicted for score in scores] == np.bincount(
        predicted, minlength=NUM_CATEGORIES
    ).tolist()


def test_most_confused_pairs_come_first_and_never_list_hits() -> None:
    labels, predicted = _predictions()
    confusion = confusion_matrix(labels, predicted, labels=list(range(NUM_CATEGORIES)))
    pairs = most_confused_pairs(confusion, limit=5)
    assert (pairs[0].true_code, pairs[0].predicted_code) == (CATEGORY_CODES[0], CATEGORY_CODES[1])
    assert pairs[0].count == confusion[0, 1]
    assert pairs[0].share_of_true == confusion[0, 1] / confusion[0].sum()
    counts = [pair.count for pair in pairs]
    assert counts == sorted(counts, reverse=True)
    assert all(pair.true_code != pair.predicted_code for pair in pairs)
    assert most_confused_pairs(np.diag(np.full(NUM_CATEGORIES, 3))) == []


def test_reports_hold_the_per_class_tables(tmp_path) -> None:
    labels, predicted = _predictions()
    probabilities = np.eye(NUM_CATEGORIES)[predicted]
    written = write_reports(labels, probabilities, evaluate(labels, probabilities), tmp_path, "t")
    names = {path.name for path in written}
    assert {PER_CLASS_CSV, CONFUSED_PAIRS_CSV, PER_CLASS_JSON} <= names
    table = pd.read_csv(tmp_path / PER_CLASS_CSV)
    assert list(table.columns) == [
        "code", "name", "precision", "recall", "f1", "support", "predicted"
    ]  # fmt: skip
    assert table["support"].sum() == len(labels)
    report = json.loads((tmp_path / PER_CLASS_JSON).read_text(encoding="utf-8"))
    assert report["rows"] == len(labels)
    assert len(report["classes"]) == NUM_CATEGORIES
    first = report["most_confused_pairs"][0]
    assert (first["true_code"], first["predicted_code"]) == (CATEGORY_CODES[0], CATEGORY_CODES[1])
    pairs = pd.read_csv(tmp_path / CONFUSED_PAIRS_CSV)
    assert pairs.iloc[0]["count"] == first["count"]
    text = (tmp_path / REPORT_TEXT).read_text(encoding="utf-8")
    assert "Most confused pairs" in text
    assert f"{CATEGORY_CODES[0]} " in text.split("Most confused pairs")[1]
