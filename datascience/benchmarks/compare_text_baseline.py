"""Compare the text model with a TF-IDF character n-gram + linear SVM baseline on real rows.

Stratified K-fold cross-validation on the text rows of the real Rakuten sample
(``product_classifier.paths.REAL_SAMPLE_DIR``). In every fold, both models train on the same
training rows and are scored on the same test rows:

* baseline: TF-IDF character 2-5-grams on the raw ``designation + " " + description`` and a
  scikit-learn ``LinearSVC``, fitted on the whole training fold;
* text model: our featurizer and Keras head, trained as the training pipeline trains it. A
  stratified validation split is carved out of the training fold (never the test fold); the
  featurizer is fitted on the remaining rows; training stops early on validation accuracy; then
  (``--refit``, the training CLI's default for text) a new model trains on the whole training
  fold for the best number of epochs. The test fold only scores the finished model.

Prints per-fold and mean ± std weighted F1 and accuracy of both, and their paired difference.

Run from ``datascience/``::

    uv run --no-sync python -m benchmarks.compare_text_baseline
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.svm import LinearSVC
from tqdm import tqdm

from product_classifier.categories import code_to_index
from product_classifier.models.text import (
    TEXT_MODEL_DEFAULTS,
    build_text_featurizer,
    build_text_model,
    featurize,
)
from product_classifier.paths import REAL_SAMPLE_DIR
from product_classifier.preprocessing.text import product_text

logger = logging.getLogger(__name__)

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Scores:
    """Weighted F1 and accuracy of one model on one test fold."""

    f1: float
    accuracy: float


@dataclass(frozen=True)
class TextRows:
    """The real sample's products: raw fields and class indices (0..26)."""

    designations: list[object]
    descriptions: list[object]
    labels: IntArray


def load_rows(data_dir: Path) -> TextRows:
    """Read ``X.csv`` and ``y.csv`` of an original data folder.

    Raises:
        SystemExit: The folder or one of its CSV files is missing.
    """
    x_path, y_path = data_dir / "X.csv", data_dir / "y.csv"
    if not x_path.is_file() or not y_path.is_file():
        raise SystemExit(f"Real sample not found: expected {x_path} and {y_path}.")
    features = pd.read_csv(x_path, index_col=0)
    codes = pd.read_csv(y_path, index_col=0)["prdtypecode"].reindex(features.index)
    labels = np.array([code_to_index(int(code)) for code in codes], dtype=np.int64)
    return TextRows(
        designations=features["designation"].tolist(),
        descriptions=features["description"].tolist(),
        labels=labels,
    )


def score(labels: IntArray, predicted: IntArray) -> Scores:
    """Weighted F1 and accuracy of predicted class indices."""
    return Scores(
        f1=float(f1_score(labels, predicted, average="weighted")),
        accuracy=float(accuracy_score(labels, predicted)),
    )


def baseline_scores(
    raw_texts: Sequence[str], labels: IntArray, train: IntArray, test: IntArray
) -> Scores:
    """Fit the character n-gram + linear SVM baseline on ``train`` and score it on ``test``."""
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(2, 5))
    train_matrix = vectorizer.fit_transform([raw_texts[i] for i in train])
    classifier = LinearSVC().fit(train_matrix, labels[train])
    predicted = classifier.predict(vectorizer.transform([raw_texts[i] for i in test]))
    return score(labels[test], np.asarray(predicted))


def text_model_scores(  # noqa: PLR0917 - one call site, read as a table
    documents: Sequence[str],
    labels: IntArray,
    train: IntArray,
    test: IntArray,
    args: argparse.Namespace,
    seed: int,
) -> tuple[Scores, int]:
    """Train our text model on ``train`` (validation carved from it) and score it on ``test``.

    Returns:
        The test scores and the epoch (1-based) whose weights were restored.
    """
    import keras  # noqa: PLC0415 - TensorFlow loads only when the model is trained

    fit_rows, validation_rows = train_test_split(
        train,
        test_size=args.validation_fraction,
        stratify=labels[train],
        random_state=seed,
    )
    featurizer = build_text_featurizer(char_max_features=args.char_max_features)
    featurizer.fit([documents[i] for i in fit_rows])

    def matrix(rows: IntArray) -> npt.NDArray[np.float32]:
        return featurize(featurizer, [documents[i] for i in rows])

    def build_model() -> Any:
        return build_text_model(
            len(featurizer.get_feature_names_out()),
            hidden_units=args.hidden_units,
            dropout=args.dropout,
            learning_rate=args.learning_rate,
            l2=args.l2,
        )

    keras.utils.set_random_seed(seed)
    model = build_model()
    stopping = keras.callbacks.EarlyStopping(
        monitor="val_accuracy", mode="max", patience=args.patience, restore_best_weights=True
    )
    history = model.fit(
        matrix(fit_rows),
        labels[fit_rows],
        validation_data=(matrix(validation_rows), labels[validation_rows]),
        epochs=args.epochs,
        batch_size=args.batch_size,
        callbacks=[stopping],
        verbose=0,
    )
    best_epoch = int(np.argmax(history.history["val_accuracy"])) + 1
    if args.refit:
        # As the training CLI does by default for text: a new model on every training row.
        keras.utils.set_random_seed(seed)
        model = build_model()
        model.fit(
            matrix(train), labels[train], epochs=best_epoch, batch_size=args.batch_size, verbose=0
        )
    probabilities = np.asarray(model.predict_on_batch(matrix(test)))
    keras.backend.clear_session()
    return score(labels[test], probabilities.argmax(axis=1)), best_epoch


def summary(values: Sequence[float]) -> str:
    """Format ``mean ± std`` of fold values."""
    return f"{np.mean(values):.4f} ± {np.std(values):.4f}"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    defaults = TEXT_MODEL_DEFAULTS
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--data-dir", type=Path, default=REAL_SAMPLE_DIR, help="X.csv/y.csv folder")
    parser.add_argument("--folds", type=int, default=5, help="number of folds (default 5)")
    parser.add_argument("--seed", type=int, default=42, help="fold and split seed (default 42)")
    parser.add_argument(
        "--validation-fraction",
        type=float,
        default=0.15,
        help="share of each training fold used for early stopping (default 0.15, as training)",
    )
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--patience", type=int, default=defaults.patience)
    parser.add_argument("--hidden-units", type=int, default=defaults.hidden_units)
    parser.add_argument("--dropout", type=float, default=defaults.dropout)
    parser.add_argument("--learning-rate", type=float, default=defaults.learning_rate)
    parser.add_argument("--l2", type=float, default=defaults.l2)
    parser.add_argument(
        "--char-max-features",
        type=int,
        default=defaults.char_max_features,
        help="character n-gram vocabulary size; 0 for word features only",
    )
    parser.add_argument(
        "--refit",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="retrain on the whole training fold for the best epoch count (default: on)",
    )
    parser.add_argument("--threads", type=int, default=2, help="TensorFlow CPU threads (default 2)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the cross-validation and print both models' scores."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf  # noqa: PLC0415 - after the log level is set

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)

    rows = load_rows(args.data_dir)
    raw_texts = [
        f"{d if isinstance(d, str) else ''} {t if isinstance(t, str) else ''}"
        for d, t in zip(rows.designations, rows.descriptions, strict=True)
    ]
    documents = [
        product_text(d, t) for d, t in zip(rows.designations, rows.descriptions, strict=True)
    ]
    folds = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=args.seed)
    print(
        f"{len(documents)} rows, {args.folds} stratified folds (seed {args.seed}); "
        f"text model: hidden {args.hidden_units}, dropout {args.dropout}, "
        f"lr {args.learning_rate}, l2 {args.l2}, batch {args.batch_size}, "
        f"patience {args.patience}, validation {args.validation_fraction:.0%} of each training fold"
        f", refit {'on' if args.refit else 'off'}"
    )
    baseline: list[Scores] = []
    ours: list[Scores] = []
    started = time.perf_counter()
    splits = list(folds.split(np.zeros(len(rows.labels)), rows.labels))
    for fold, (train, test) in enumerate(tqdm(splits, desc="folds", unit="fold"), start=1):
        base = baseline_scores(raw_texts, rows.labels, train, test)
        mine, epoch = text_model_scores(
            documents, rows.labels, train, test, args, seed=args.seed + fold
        )
        baseline.append(base)
        ours.append(mine)
        tqdm.write(
            f"fold {fold}: baseline F1 {base.f1:.4f} acc {base.accuracy:.4f} | "
            f"text model F1 {mine.f1:.4f} acc {mine.accuracy:.4f} (best epoch {epoch}) | "
            f"ΔF1 {mine.f1 - base.f1:+.4f}"
        )
    f1_gain = [m.f1 - b.f1 for m, b in zip(ours, baseline, strict=True)]
    accuracy_gain = [m.accuracy - b.accuracy for m, b in zip(ours, baseline, strict=True)]
    print(f"\n{'model':<38}{'weighted F1':>18}{'accuracy':>18}")
    print(
        f"{'baseline (char 2-5 TF-IDF + LinearSVC)':<38}"
        f"{summary([s.f1 for s in baseline]):>18}{summary([s.accuracy for s in baseline]):>18}"
    )
    print(
        f"{'text model (TF-IDF + Keras head)':<38}"
        f"{summary([s.f1 for s in ours]):>18}{summary([s.accuracy for s in ours]):>18}"
    )
    print(
        f"{'difference (text model - baseline)':<38}{summary(f1_gain):>18}{summary(accuracy_gain):>18}"  # noqa: E501
    )
    wins = sum(gain > 0 for gain in f1_gain)
    print(
        f"text model ahead on F1 in {wins}/{len(f1_gain)} folds; {time.perf_counter() - started:.0f} s"  # noqa: E501
    )


if __name__ == "__main__":
    main()
