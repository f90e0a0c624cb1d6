"""Per-category scores and the most confused category pairs of a scored model.

Written next to the classification report by every training run (text, image and fusion) and
logged with it to MLflow under ``reports/``:

* ``per_class_report.csv``: one line per category (code, name, precision, recall, F1, support =
  true rows, predicted = rows predicted as it), in the category table's order;
* ``confused_pairs.csv``: the most frequent mistakes (true category predicted as another), most
  frequent first, with the share of the true category's rows they take;
* ``per_class_report.json``: both tables, plus the number of scored rows.
"""

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from product_classifier.categories import CATEGORY_CODES, category_name

PER_CLASS_CSV: Final = "per_class_report.csv"
CONFUSED_PAIRS_CSV: Final = "confused_pairs.csv"
PER_CLASS_JSON: Final = "per_class_report.json"
MOST_CONFUSED_PAIRS: Final = 10
"""How many confused pairs the reports list."""


@dataclass(frozen=True)
class ClassScores:
    """Scores of one category (0.0 when undefined: no true or no predicted row)."""

    code: int
    name: str
    precision: float
    recall: float
    f1: float
    support: int
    predicted: int


@dataclass(frozen=True)
class ConfusedPair:
    """Rows of category ``true_code`` predicted as ``predicted_code``.

    Attributes:
        count: Number of such rows.
        share_of_true: ``count`` over the true category's rows (0..1).
    """

    true_code: int
    true_name: str
    predicted_code: int
    predicted_name: str
    count: int
    share_of_true: float


def per_class_scores(confusion: npt.NDArray[np.int64]) -> list[ClassScores]:
    """Precision, recall, F1, support and predicted count of every category.

    Args:
        confusion: ``(27, 27)`` counts, true categories in rows, predictions in columns, in the
            category table's order.
    """
    hits = np.diag(confusion).astype(float)
    support = confusion.sum(axis=1)
    predicted = confusion.sum(axis=0)
    precision = np.divide(hits, predicted, out=np.zeros_like(hits), where=predicted > 0)
    recall = np.divide(hits, support, out=np.zeros_like(hits), where=support > 0)
    total = precision + recall
    f1 = np.divide(2 * precision * recall, total, out=np.zeros_like(hits), where=total > 0)
    return [
        ClassScores(
            code=code,
            name=category_name(code),
            precision=float(precision[index]),
            recall=float(recall[index]),
            f1=float(f1[index]),
            support=int(support[index]),
            predicted=int(predicted[index]),
        )
        for index, code in enumerate(CATEGORY_CODES)
    ]


def most_confused_pairs(
    confusion: npt.NDArray[np.int64], limit: int = MOST_CONFUSED_PAIRS
) -> list[ConfusedPair]:
    """The ``limit`` most frequent mistakes, most rows first (ties: larger share first).

    Args:
        confusion: ``(27, 27)`` counts as for :func:`per_class_scores`.
        limit: Most pairs returned; pairs with no row are never listed.
    """
    support = confusion.sum(axis=1)
    pairs = [
        ConfusedPair(
            true_code=CATEGORY_CODES[true],
            true_name=category_name(CATEGORY_CODES[true]),
            predicted_code=CATEGORY_CODES[guess],
            predicted_name=category_name(CATEGORY_CODES[guess]),
            count=int(confusion[true, guess]),
            share_of_true=float(confusion[true, guess] / support[true]),
        )
        for true, guess in zip(*np.nonzero(confusion), strict=True)
        if true != guess
    ]
    pairs.sort(key=lambda pair: (-pair.count, -pair.share_of_true, pair.true_code))
    return pairs[:limit]


def confused_pairs_text(pairs: list[ConfusedPair]) -> str:
    """The confused pairs as aligned text lines (for the text classification report)."""
    if not pairs:
        return "Most confused pairs: none (no mistake).\n"
    lines = ["Most confused pairs (true -> predicted: rows, share of the true category's rows)"]
    lines += [
        f"  {pair.true_code} {pair.true_name} -> {pair.predicted_code} {pair.predicted_name}: "
        f"{pair.count} ({pair.share_of_true:.0%})"
        for pair in pairs
    ]
    return "\n".join(lines) + "\n"


def write_class_report(confusion: npt.NDArray[np.int64], output_dir: Path) -> list[Path]:
    """Write the per-category CSV, the confused pairs CSV and both as JSON.

    Returns:
        The written files.
    """
    scores = per_class_scores(confusion)
    pairs = most_confused_pairs(confusion)
    per_class_path = output_dir / PER_CLASS_CSV
    pd.DataFrame([asdict(score) for score in scores]).to_csv(
        per_class_path, index=False, float_format="%.4f"
    )
    pairs_path = output_dir / CONFUSED_PAIRS_CSV
    pair_columns = list(ConfusedPair.__dataclass_fields__)
    pd.DataFrame([asdict(pair) for pair in pairs], columns=pair_columns).to_csv(
        pairs_path, index=False, float_format="%.4f"
    )
    json_path = output_dir / PER_CLASS_JSON
    report = {
        "rows": int(confusion.sum()),
        "classes": [asdict(score) for score in scores],
        "most_confused_pairs": [asdict(pair) for pair in pairs],
    }
    json_path.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    return [per_class_path, pairs_path, json_path]
