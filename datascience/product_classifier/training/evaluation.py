"""Score a finished model on the test rows and draw its figures.

Writes, in the output folder: ``classification_report.txt`` and ``.json``,
``confusion_matrix.png``, ``training_history.png`` and the per-category tables of
:mod:`product_classifier.training.class_report`.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import matplotlib as mpl

mpl.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    classification_report,
    confusion_matrix,
    f1_score,
)

from product_classifier.categories import CATEGORIES, CATEGORY_CODES, NUM_CATEGORIES
from product_classifier.training.class_report import (
    confused_pairs_text,
    most_confused_pairs,
    write_class_report,
)

REPORT_TEXT: Final = "classification_report.txt"
REPORT_JSON: Final = "classification_report.json"
CONFUSION_MATRIX: Final = "confusion_matrix.png"
TRAINING_HISTORY: Final = "training_history.png"
CATEGORY_LABELS: Final = [f"{code} {name}" for code, name in CATEGORIES.items()]


@dataclass(frozen=True)
class Evaluation:
    """Scores of a model on labelled rows.

    Attributes:
        accuracy: Share of rows whose most probable category is right.
        f1_weighted: F1 score averaged over categories, weighted by their row counts.
        report: scikit-learn classification report (dict form) over the 27 categories.
        confusion: ``(27, 27)`` counts, true categories in rows, predictions in columns.
    """

    accuracy: float
    f1_weighted: float
    report: dict[str, Any]
    confusion: npt.NDArray[np.int64]


def evaluate(labels: npt.NDArray[np.int32], probabilities: npt.NDArray[np.floating]) -> Evaluation:
    """Score predicted probabilities against the true class indices."""
    predicted = np.asarray(probabilities).argmax(axis=1)
    classes = list(range(NUM_CATEGORIES))
    report = classification_report(
        labels,
        predicted,
        labels=classes,
        target_names=CATEGORY_LABELS,
        zero_division=0,
        output_dict=True,
    )
    return Evaluation(
        accuracy=float(accuracy_score(labels, predicted)),
        f1_weighted=float(
            f1_score(labels, predicted, labels=classes, average="weighted", zero_division=0)
        ),
        report=report,
        confusion=confusion_matrix(labels, predicted, labels=classes),
    )


def report_text(labels: npt.NDArray[np.int32], probabilities: npt.NDArray[np.floating]) -> str:
    """Return the classification report as text (precision, recall, F1 per category)."""
    text: str = classification_report(
        labels,
        np.asarray(probabilities).argmax(axis=1),
        labels=list(range(NUM_CATEGORIES)),
        target_names=CATEGORY_LABELS,
        zero_division=0,
        digits=3,
    )
    return text


def write_reports(
    labels: npt.NDArray[np.int32],
    probabilities: npt.NDArray[np.floating],
    evaluation: Evaluation,
    output_dir: Path,
    title: str,
) -> list[Path]:
    """Write the classification report, the confusion matrix figure and per-category tables.

    The per-category tables (scores with supports, most confused pairs; CSV and JSON) come from
    :func:`~product_classifier.training.class_report.write_class_report`.

    Returns:
        The written files.
    """
    text_path = output_dir / REPORT_TEXT
    text_path.write_text(
        f"{title}\naccuracy {evaluation.accuracy:.4f}, weighted F1 {evaluation.f1_weighted:.4f}\n\n"
        + report_text(labels, probabilities)
        + "\n"
        + confused_pairs_text(most_confused_pairs(evaluation.confusion)),
        encoding="utf-8",
    )
    json_path = output_dir / REPORT_JSON
    json_path.write_text(
        json.dumps(evaluation.report, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    figure_path = output_dir / CONFUSION_MATRIX
    plot_confusion_matrix(evaluation.confusion, figure_path, title)
    tables = write_class_report(evaluation.confusion, output_dir)
    return [text_path, json_path, figure_path, *tables]


def plot_confusion_matrix(confusion: npt.NDArray[np.int64], path: Path, title: str) -> None:
    """Draw the confusion matrix, normalised per true category, with the counts written in."""
    totals = confusion.sum(axis=1, keepdims=True)
    shares = np.divide(confusion, totals, out=np.zeros(confusion.shape), where=totals > 0)
    figure, axes = plt.subplots(figsize=(14, 12))
    image = axes.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04, label="share of the true category")
    ticks = np.arange(NUM_CATEGORIES)
    axes.set_xticks(ticks, [str(code) for code in CATEGORY_CODES], rotation=90)
    axes.set_yticks(ticks, CATEGORY_LABELS)
    axes.set_xlabel("predicted category")
    axes.set_ylabel("true category")
    axes.set_title(title)
    for row in range(NUM_CATEGORIES):
        for column in range(NUM_CATEGORIES):
            if confusion[row, column]:
                color = "white" if shares[row, column] > 0.5 else "black"
                axes.text(
                    column,
                    row,
                    str(confusion[row, column]),
                    ha="center",
                    va="center",
                    fontsize=6,
                    color=color,
                )
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def plot_history(history_csv: Path, path: Path, title: str) -> bool:
    """Draw loss and accuracy per epoch (training and validation) from the CSV log.

    Returns:
        Whether a figure was drawn (the log may be missing or empty).
    """
    if not history_csv.is_file():
        return False
    history = pd.read_csv(history_csv)
    if history.empty:
        return False
    # A resumed run may have repeated an epoch: keep the latest line of each.
    history = history.drop_duplicates(subset="epoch", keep="last").sort_values("epoch")
    epochs = history["epoch"] + 1
    figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(12, 4.5))
    for axes, metric in ((loss_axes, "loss"), (accuracy_axes, "accuracy")):
        for prefix, label in (("", "training"), ("val_", "validation")):
            column = prefix + metric
            if column in history:
                axes.plot(epochs, history[column], marker="o", markersize=3, label=label)
        axes.set_xlabel("epoch")
        axes.set_ylabel(metric)
        axes.grid(alpha=0.3)
        axes.legend()
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return True
