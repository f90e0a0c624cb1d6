"""Two models scored on the same labelled rows: scores, per-category F1 changes, paired CIs.

The confidence intervals of the differences (challenger minus champion) come from a paired
bootstrap (Efron & Tibshirani, *An Introduction to the Bootstrap*, 1993, ch. 13): rows are drawn
with replacement and both models are scored on the same draw, so the interval reflects how much
the difference depends on which rows were replayed. ``scipy.stats.bootstrap`` does the
resampling (``paired=True``, percentile intervals).
"""

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from product_classifier.categories import NUM_CATEGORIES
from product_classifier.text_table import aligned_lines

RESAMPLES: Final = 1000
MAX_RESAMPLES: Final = 100_000
"""Most bootstrap draws a command takes (each costs one metric call per difference)."""
_BATCH: Final = 1000  # draws generated at once: memory stays at 1,000 x rows indices
CONFIDENCE: Final = 0.95
_CLASSES: Final = list(range(NUM_CATEGORIES))


@dataclass(frozen=True)
class Difference:
    """Challenger minus champion, with its paired bootstrap interval (``low`` to ``high``)."""

    value: float
    low: float
    high: float


@dataclass(frozen=True)
class ClassChange:
    """F1 of one category (with true rows) under both models."""

    code: int
    name: str
    support: int
    champion_f1: float
    challenger_f1: float

    @property
    def change(self) -> float:
        """Challenger minus champion F1."""
        return self.challenger_f1 - self.champion_f1


@dataclass(frozen=True)
class Comparison:
    """Both models on the same rows.

    Attributes:
        rows: Rows scored by both models.
        champion_accuracy, challenger_accuracy: Share of rows whose top category is right.
        champion_f1, challenger_f1: F1 averaged over categories weighted by their row counts.
        accuracy_gain, f1_gain: Challenger minus champion, with 95% paired bootstrap intervals.
        classes: Per-category F1 of the categories with true rows, largest change first.
    """

    rows: int
    champion_accuracy: float
    challenger_accuracy: float
    champion_f1: float
    challenger_f1: float
    accuracy_gain: Difference
    f1_gain: Difference
    classes: list[ClassChange]

    def to_json(self) -> str:
        """The comparison as indented JSON (with each category's change)."""
        values: dict[str, Any] = asdict(self)
        for entry, change in zip(values["classes"], self.classes, strict=True):
            entry["change"] = change.change
        return json.dumps(values, indent=2, ensure_ascii=False) + "\n"


# scikit-learn, scipy.stats and the training modules (matplotlib) are imported where used: the
# API imports this module for its challenger report, and would otherwise pay seconds of start-up
# and tens of MB for them before serving anything.


def _accuracy(labels: npt.NDArray[Any], predicted: npt.NDArray[Any]) -> float:
    from sklearn.metrics import accuracy_score  # noqa: PLC0415 - see above

    return float(accuracy_score(labels, predicted))


def _weighted_f1(labels: npt.NDArray[Any], predicted: npt.NDArray[Any]) -> float:
    from sklearn.metrics import f1_score  # noqa: PLC0415 - see above

    return float(f1_score(labels, predicted, labels=_CLASSES, average="weighted", zero_division=0))


def paired_difference(
    metric: Callable[[npt.NDArray[Any], npt.NDArray[Any]], float],
    labels: npt.NDArray[np.integer[Any]],
    champion: npt.NDArray[np.integer[Any]],
    challenger: npt.NDArray[np.integer[Any]],
    *,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> Difference:
    """``metric(challenger) - metric(champion)`` with its paired bootstrap percentile interval.

    Args:
        metric: ``metric(labels, predicted) -> float``.
        labels: ``(rows,)`` true class indices.
        champion: ``(rows,)`` predicted class indices of the champion.
        challenger: ``(rows,)`` predicted class indices of the challenger.
        resamples: Bootstrap draws.
        seed: Seed of the draws (the same seed draws the same rows for every metric).
    """

    def difference(
        truth: npt.NDArray[Any], first: npt.NDArray[Any], second: npt.NDArray[Any]
    ) -> float:
        return metric(truth, second) - metric(truth, first)

    from scipy.stats import bootstrap  # noqa: PLC0415 - see _accuracy

    value = difference(labels, champion, challenger)
    if len(labels) < 2:  # one row cannot be resampled into a spread
        return Difference(value, value, value)
    result = bootstrap(
        (labels, champion, challenger),
        difference,
        paired=True,
        vectorized=False,
        n_resamples=resamples,
        batch=_BATCH,
        confidence_level=CONFIDENCE,
        method="percentile",
        rng=np.random.default_rng(seed),
    )
    interval = result.confidence_interval
    return Difference(value, float(interval.low), float(interval.high))


@dataclass(frozen=True)
class PairedScores:
    """Both models' top categories scored on the same labelled rows.

    Attributes:
        rows: Rows scored.
        champion_accuracy, challenger_accuracy: Share of rows whose top category is right.
        champion_f1, challenger_f1: F1 averaged over categories weighted by their row counts.
        accuracy_gain, f1_gain: Challenger minus champion, with 95% paired bootstrap intervals.
    """

    rows: int
    champion_accuracy: float
    challenger_accuracy: float
    champion_f1: float
    challenger_f1: float
    accuracy_gain: Difference
    f1_gain: Difference


def score_top_categories(
    labels: npt.NDArray[np.integer[Any]],
    champion: npt.NDArray[np.integer[Any]],
    challenger: npt.NDArray[np.integer[Any]],
    *,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> PairedScores:
    """Accuracy and weighted F1 of both models, and their paired bootstrap differences.

    Args:
        labels: ``(rows,)`` true class indices (0..26), at least one row.
        champion: ``(rows,)`` class indices the champion ranked first.
        challenger: ``(rows,)`` class indices the challenger ranked first.
        resamples: Bootstrap draws for the intervals.
        seed: Seed of the draws.
    """
    options: dict[str, Any] = {"resamples": resamples, "seed": seed}
    return PairedScores(
        rows=len(labels),
        champion_accuracy=_accuracy(labels, champion),
        challenger_accuracy=_accuracy(labels, challenger),
        champion_f1=_weighted_f1(labels, champion),
        challenger_f1=_weighted_f1(labels, challenger),
        accuracy_gain=paired_difference(_accuracy, labels, champion, challenger, **options),
        f1_gain=paired_difference(_weighted_f1, labels, champion, challenger, **options),
    )


def compare(
    labels: npt.NDArray[np.int32],
    champion: npt.NDArray[np.floating],
    challenger: npt.NDArray[np.floating],
    *,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> Comparison:
    """Score both models' probabilities against the same labels.

    Args:
        labels: ``(rows,)`` true class indices.
        champion: ``(rows, 27)`` class probabilities of the champion.
        challenger: ``(rows, 27)`` class probabilities of the challenger.
        resamples: Bootstrap draws for the intervals.
        seed: Seed of the draws.

    Raises:
        ValueError: No row, or shapes that do not match.
    """
    from product_classifier.training.class_report import per_class_scores  # noqa: PLC0415
    from product_classifier.training.evaluation import evaluate  # noqa: PLC0415

    if len(labels) == 0 or champion.shape != challenger.shape or len(champion) != len(labels):
        raise ValueError(
            f"Need the same rows for both models: {len(labels)} labels, champion "
            f"{champion.shape}, challenger {challenger.shape}."
        )
    before, after = evaluate(labels, champion), evaluate(labels, challenger)
    paired = score_top_categories(
        labels,
        np.asarray(champion).argmax(axis=1),
        np.asarray(challenger).argmax(axis=1),
        resamples=resamples,
        seed=seed,
    )
    classes = [
        ClassChange(old.code, old.name, old.support, old.f1, new.f1)
        for old, new in zip(
            per_class_scores(before.confusion), per_class_scores(after.confusion), strict=True
        )
        if old.support > 0
    ]
    classes.sort(key=lambda item: (-abs(item.change), item.code))
    return Comparison(
        rows=len(labels),
        champion_accuracy=before.accuracy,
        challenger_accuracy=after.accuracy,
        champion_f1=before.f1_weighted,
        challenger_f1=after.f1_weighted,
        accuracy_gain=paired.accuracy_gain,
        f1_gain=paired.f1_gain,
        classes=classes,
    )


def comparison_text(comparison: Comparison, champion: str, challenger: str, source: str) -> str:
    """The side-by-side table printed and logged by ``evaluate_challenger``.

    Args:
        comparison: The scores.
        champion: How to name the champion (e.g. ``models:/fusion/2``).
        challenger: How to name the challenger.
        source: Where the rows come from.
    """
    lines = [
        f"Challenger {challenger} vs champion {champion}",
        f"on {comparison.rows} rows ({source})",
        "",
    ]
    header = ["", "CHAMPION", "CHALLENGER", "CHANGE", f"{CONFIDENCE:.0%} CI (PAIRED BOOTSTRAP)"]
    rows = [header]
    for name, old, new, gain in (
        (
            "accuracy",
            comparison.champion_accuracy,
            comparison.challenger_accuracy,
            comparison.accuracy_gain,
        ),
        ("weighted F1", comparison.champion_f1, comparison.challenger_f1, comparison.f1_gain),
    ):
        rows.append(
            [
                name,
                f"{old:.4f}",
                f"{new:.4f}",
                f"{gain.value:+.4f}",
                f"[{gain.low:+.4f}, {gain.high:+.4f}]",
            ]
        )
    lines += aligned_lines(rows)
    lines += ["", "Per-category F1 (categories with rows, largest change first)"]
    class_rows = [["CODE", "CATEGORY", "ROWS", "CHAMPION", "CHALLENGER", "CHANGE"]]
    class_rows += [
        [
            str(item.code),
            item.name,
            str(item.support),
            f"{item.champion_f1:.4f}",
            f"{item.challenger_f1:.4f}",
            f"{item.change:+.4f}",
        ]
        for item in comparison.classes
    ]
    lines += aligned_lines(class_rows)
    return "\n".join(lines) + "\n"
