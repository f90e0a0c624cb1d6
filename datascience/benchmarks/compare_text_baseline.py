"""Compare the text model with two linear baselines on the real sample, honestly.

The real Rakuten sample (``product_classifier.paths.REAL_SAMPLE_DIR``) is split once, stratified
and seeded, into a *development* part (80%) and a *held-out* part (20%) that no model choice
ever looked at. On the development part, repeated stratified K-fold cross-validation (default
5 x 5) trains three models on the same training rows of every fold and scores them on the same
test rows:

* ``char_wb SVC``: TF-IDF character 2-5-grams (``char_wb``) of the raw ``designation +
  description`` and ``LinearSVC(C=0.5)``;
* ``word+char balanced SVC``: TF-IDF word 1-2-grams and character 2-5-grams (sublinear tf) of the
  same text and ``LinearSVC(class_weight="balanced")``, the stronger baseline;
* ``text model``: our featurizer (with the averaged word vectors unless ``--no-word-vectors``)
  and Keras model, trained as the training CLI trains it: a
  stratified validation split (15%) is carved out of the training rows, the featurizer is fitted
  on the rest, training stops early on validation accuracy, then (``--refit``, the CLI's default
  for text) a new model trains on all the training rows for the best number of epochs; with the
  linear ensemble (unless ``--no-linear-ensemble``) a class-balanced LinearSVC is then fitted on
  the same features of those rows and averaged with it.

For each paired difference (text model minus a baseline) it prints the mean over the folds with
two 95% intervals: the plain Student interval over the folds, and the Nadeau-Bengio corrected
one (Nadeau & Bengio, "Inference for the Generalization Error", Machine Learning 52, 2003), which
accounts for the overlap of the training rows between folds and is the one to trust. Finally all
three models train on the whole development part and are scored on the held-out part, with a
paired bootstrap 95% interval of the differences (1,000 resamples of the held-out rows).

Run from ``datascience/`` (5 x 5 folds: about 35 minutes on 2 quiet CPU cores; ``--repeats 1`` for
a quick look)::

    uv run --no-sync python -m benchmarks.compare_text_baseline
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats
from scripts.cli_support import bounded_int, positive_int, seed, share
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score
from sklearn.model_selection import RepeatedStratifiedKFold, train_test_split
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.svm import LinearSVC

from benchmarks.arguments import non_negative_float, positive_float, rate
from benchmarks.tables import print_table
from product_classifier.categories import code_to_index
from product_classifier.evaluation.comparison import paired_difference
from product_classifier.models.text import TEXT_MODEL_DEFAULTS, build_text_featurizer
from product_classifier.paths import REAL_SAMPLE_DIR
from product_classifier.preprocessing.text import product_text
from product_classifier.preprocessing.word_vectors import DEFAULT_WORD_VECTORS

logger = logging.getLogger(__name__)

IntArray = npt.NDArray[np.int64]
Predictor = Callable[[IntArray, IntArray], IntArray]
"""Fits on the first rows, returns the predicted class indices of the second rows."""

TEXT_MODEL = "text model"
CHAR_SVC = "char_wb SVC"
WORD_CHAR_SVC = "word+char balanced SVC"
BOOTSTRAP_RESAMPLES = 1000


@dataclass(frozen=True)
class SampleRows:
    """The real sample's products: raw text for the baselines, model documents, class indices."""

    raw_texts: list[str]
    documents: list[str]
    labels: IntArray


def load_rows(data_dir: Path) -> SampleRows:
    """Read ``X.csv`` and ``y.csv`` of an original data folder.

    Raises:
        SystemExit: The folder or one of its CSV files is missing.
    """
    x_path, y_path = data_dir / "X.csv", data_dir / "y.csv"
    if not x_path.is_file() or not y_path.is_file():
        raise SystemExit(f"Real sample not found: expected {x_path} and {y_path}.")
    features = pd.read_csv(x_path, index_col=0)
    codes = pd.read_csv(y_path, index_col=0)["prdtypecode"].reindex(features.index)
    titles = features["designation"].fillna("").astype(str).tolist()
    descriptions = features["description"].fillna("").astype(str).tolist()
    return SampleRows(
        raw_texts=[f"{title} {text}" for title, text in zip(titles, descriptions, strict=True)],
        documents=[product_text(t, d) for t, d in zip(titles, descriptions, strict=True)],
        labels=np.array([code_to_index(int(code)) for code in codes], dtype=np.int64),
    )


def weighted_f1(labels: IntArray, predicted: IntArray) -> float:
    """Weighted F1 of predicted class indices."""
    return float(f1_score(labels, predicted, average="weighted", zero_division=0))


def svc_predictor(texts: Sequence[str], labels: IntArray, kind: str) -> Predictor:
    """One of the two linear baselines, fitted on the rows it is given."""

    def make() -> Any:
        if kind == CHAR_SVC:
            vectorizer: Any = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5))
            return make_pipeline(vectorizer, LinearSVC(C=0.5))
        union = FeatureUnion(
            [
                ("word", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
                ("char", TfidfVectorizer(analyzer="char", ngram_range=(2, 5), sublinear_tf=True)),
            ]
        )
        return make_pipeline(union, LinearSVC(class_weight="balanced"))

    def predict(train: IntArray, test: IntArray) -> IntArray:
        model = make().fit([texts[i] for i in train], labels[train])
        return np.asarray(model.predict([texts[i] for i in test]), dtype=np.int64)

    return predict


def text_model_predictor(
    documents: Sequence[str], labels: IntArray, args: argparse.Namespace
) -> Predictor:
    """Our text model, trained on the rows it is given as the training CLI trains it."""
    import keras  # noqa: PLC0415 - TensorFlow loads only when the model is trained

    from product_classifier.models.text import (  # noqa: PLC0415
        build_text_model,
        fit_linear_ensemble,
    )
    from product_classifier.training.inputs import balanced_class_weights  # noqa: PLC0415

    def predict(train: IntArray, test: IntArray) -> IntArray:
        fit_rows, validation_rows = train_test_split(
            train,
            test_size=args.validation_fraction,
            stratify=labels[train],
            random_state=args.seed,
        )
        featurizer = build_text_featurizer(
            title_features=args.title_features,
            word_vectors=DEFAULT_WORD_VECTORS if args.word_vectors else None,
        )
        featurizer.fit([documents[i] for i in fit_rows])
        # Featurised once per fold (word vectors and character n-grams are slow), read by row.
        known = np.concatenate([train, test])
        position = {int(row): index for index, row in enumerate(known)}
        features = featurizer.transform([documents[i] for i in known]).tocsr()

        def sparse(rows: IntArray) -> Any:
            return features[[position[int(row)] for row in rows]]

        def matrix(rows: IntArray) -> npt.NDArray[np.float32]:
            return np.asarray(sparse(rows).toarray(), dtype=np.float32)

        def new_model() -> Any:
            keras.utils.set_random_seed(args.seed)
            model = build_text_model(
                matrix(fit_rows[:1]).shape[1],
                hidden_units=args.hidden_units,
                dropout=args.dropout,
                learning_rate=args.learning_rate,
                l2=args.l2,
                wide=args.wide,
                label_smoothing=args.label_smoothing,
                towers=args.towers,
            )
            return model, _one_hot if _categorical(model) else _indices

        def class_weight(rows: IntArray) -> dict[int, float] | None:
            chosen = labels[rows].astype(np.int32)
            return balanced_class_weights(chosen) if args.balance_classes else None

        model, encode = new_model()
        stopping = keras.callbacks.EarlyStopping(
            monitor="val_accuracy", mode="max", patience=args.patience, restore_best_weights=True
        )
        history = model.fit(
            matrix(fit_rows),
            encode(labels[fit_rows]),
            validation_data=(matrix(validation_rows), encode(labels[validation_rows])),
            epochs=args.epochs,
            batch_size=args.batch_size,
            callbacks=[stopping],
            verbose=0,
            class_weight=class_weight(fit_rows),
        )
        best_epoch = int(np.argmax(history.history["val_accuracy"])) + 1
        if args.refit:
            model, encode = new_model()
            model.fit(
                matrix(train),
                encode(labels[train]),
                epochs=best_epoch,
                batch_size=args.batch_size,
                verbose=0,
                class_weight=class_weight(train),
            )
        trained_rows = train if args.refit else fit_rows
        if args.linear_ensemble:
            model = fit_linear_ensemble(model, sparse(trained_rows), labels[trained_rows])
        probabilities = np.asarray(model.predict(matrix(test), verbose=0))
        keras.backend.clear_session()
        return np.asarray(probabilities.argmax(axis=1), dtype=np.int64)

    return predict


def _categorical(model: Any) -> bool:
    """Whether the model's loss wants one-hot labels (as the training pipeline decides)."""
    import keras  # noqa: PLC0415

    loss = model.loss
    return loss == "categorical_crossentropy" or isinstance(
        loss, keras.losses.CategoricalCrossentropy
    )


def _one_hot(labels: IntArray) -> npt.NDArray[np.float32]:
    return np.eye(27, dtype=np.float32)[labels]


def _indices(labels: IntArray) -> IntArray:
    return labels


@dataclass(frozen=True)
class Interval:
    """Mean paired difference and its two 95% intervals."""

    mean: float
    plain: tuple[float, float]
    corrected: tuple[float, float]


def paired_interval(differences: Sequence[float], test_to_train: float) -> Interval:
    """Mean of per-fold differences with the plain and the Nadeau-Bengio corrected 95% interval.

    Args:
        differences: One paired difference per fold (all repeats).
        test_to_train: Test rows over training rows of a fold (``1 / (folds - 1)``).
    """
    values = np.asarray(differences, dtype=float)
    count = len(values)
    mean = float(values.mean())
    variance = float(values.var(ddof=1)) if count > 1 else 0.0
    quantile = float(stats.t.ppf(0.975, df=max(count - 1, 1)))
    plain = quantile * np.sqrt(variance / count)
    corrected = quantile * np.sqrt(variance * (1 / count + test_to_train))
    return Interval(mean, (mean - plain, mean + plain), (mean - corrected, mean + corrected))


def bootstrap_interval(
    labels: IntArray, ours: IntArray, theirs: IntArray, seed: int
) -> tuple[float, float]:
    """Paired bootstrap 95% interval of ``F1(ours) - F1(theirs)`` over resampled rows.

    The challenger evaluation's :func:`~product_classifier.evaluation.comparison.paired_difference`
    (scipy's paired percentile bootstrap), with ``theirs`` as the champion.
    """
    difference = paired_difference(
        weighted_f1, labels, theirs, ours, resamples=BOOTSTRAP_RESAMPLES, seed=seed
    )
    return difference.low, difference.high


def _range(interval: tuple[float, float]) -> str:
    return f"{interval[0]:+.4f} … {interval[1]:+.4f}"


def _print_cv(scores: dict[str, list[float]], folds: int) -> None:
    """Print the cross-validation scores and the paired differences with their intervals."""
    count = len(scores[TEXT_MODEL])
    print(f"\nWeighted F1, {count} folds (mean ± std):")
    table = [["model", "weighted F1"]]
    table += [[name, f"{np.mean(v):.4f} ± {np.std(v, ddof=1):.4f}"] for name, v in scores.items()]
    print_table(table)
    print("\nPaired difference, text model minus baseline (95% intervals):")
    table = [["baseline", "mean", "plain t", "corrected t (Nadeau-Bengio)", "folds ahead"]]
    for name in (CHAR_SVC, WORD_CHAR_SVC):
        gains = [m - b for m, b in zip(scores[TEXT_MODEL], scores[name], strict=True)]
        interval = paired_interval(gains, 1 / (folds - 1))
        table.append(
            [
                name,
                f"{interval.mean:+.4f}",
                _range(interval.plain),
                _range(interval.corrected),
                f"{sum(gain > 0 for gain in gains)}/{len(gains)}",
            ]
        )
    print_table(table)


def _settings(args: argparse.Namespace) -> str:
    """The text model's settings, as one line."""
    return (
        f"title features {args.title_features}, word vectors {args.word_vectors}, "
        f"hidden {args.hidden_units}, dropout {args.dropout}, lr {args.learning_rate}, "
        f"l2 {args.l2}, wide {args.wide}, label smoothing {args.label_smoothing}, "
        f"balanced classes {args.balance_classes}, towers {args.towers}, "
        f"linear ensemble {args.linear_ensemble}, batch {args.batch_size}, "
        f"patience {args.patience}, refit {args.refit}"
    )


MIN_FOLDS = 2
"""Fewest folds of a stratified K-fold split (scikit-learn's minimum)."""


def fold_count(text: str) -> int:
    """Argparse type: a number of cross-validation folds, at least :data:`MIN_FOLDS`."""
    return bounded_int(text, MIN_FOLDS)


def _on_off(value: bool) -> str:
    return "on" if value else "off"


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    defaults = TEXT_MODEL_DEFAULTS
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.compare_text_baseline",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=REAL_SAMPLE_DIR,
        help="X.csv/y.csv folder (default: %(default)s)",
    )
    parser.add_argument(
        "--folds",
        metavar="N",
        type=fold_count,
        default=5,
        help=f"folds per repeat, at least {MIN_FOLDS} (default: %(default)s)",
    )
    parser.add_argument(
        "--repeats",
        metavar="N",
        type=positive_int,
        default=5,
        help="CV repeats (default: %(default)s)",
    )
    parser.add_argument(
        "--holdout-fraction",
        type=share,
        default=0.2,
        help="share of the sample held out from every choice, scored last, between 0 and 1 "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--seed",
        metavar="S",
        type=seed,
        default=42,
        help="split and training seed (default: %(default)s)",
    )
    parser.add_argument(
        "--validation-fraction",
        type=share,
        default=0.15,
        help="share of the training rows used for early stopping, between 0 and 1 "
        "(default: %(default)s, as training)",
    )
    parser.add_argument(
        "--batch-size",
        metavar="N",
        type=positive_int,
        default=defaults.batch_size,
        help="rows per batch (default: %(default)s)",
    )
    parser.add_argument(
        "--epochs",
        metavar="N",
        type=positive_int,
        default=defaults.epochs,
        help="maximum training epochs (default: %(default)s)",
    )
    parser.add_argument(
        "--patience",
        metavar="N",
        type=positive_int,
        default=defaults.patience,
        help="epochs without validation gain before training stops (default: %(default)s)",
    )
    parser.add_argument(
        "--title-features",
        action=argparse.BooleanOptionalAction,
        default=defaults.title_features,
        help="word and character n-grams of the title alone beside the whole text's "
        f"(default: {_on_off(defaults.title_features)})",
    )
    parser.add_argument(
        "--word-vectors",
        action=argparse.BooleanOptionalAction,
        default=defaults.word_vectors is not None,
        help=f"averaged pretrained word vectors ({DEFAULT_WORD_VECTORS}) of the title and of the "
        "description beside the TF-IDF parts "
        f"(default: {_on_off(defaults.word_vectors is not None)})",
    )
    parser.add_argument(
        "--hidden-units",
        metavar="N",
        type=positive_int,
        default=defaults.hidden_units,
        help="width of each tower's hidden layer (default: %(default)s)",
    )
    parser.add_argument(
        "--dropout",
        type=rate,
        default=defaults.dropout,
        help="dropout rate after the hidden layer, 0 to below 1 (default: %(default)s)",
    )
    parser.add_argument(
        "--learning-rate",
        type=positive_float,
        default=defaults.learning_rate,
        help="Adam learning rate, above 0 (default: %(default)s)",
    )
    parser.add_argument(
        "--l2",
        type=non_negative_float,
        default=defaults.l2,
        help="L2 penalty on the dense kernels, 0 for none (default: %(default)s)",
    )
    parser.add_argument(
        "--wide",
        action=argparse.BooleanOptionalAction,
        default=defaults.wide,
        help=f"wide path (default: {_on_off(defaults.wide)})",
    )
    parser.add_argument(
        "--label-smoothing",
        type=rate,
        default=defaults.label_smoothing,
        help="share of each target spread over the other categories, 0 to below 1 "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--balance-classes",
        action=argparse.BooleanOptionalAction,
        default=defaults.balance_classes,
        help=f"class-weighted loss (default: {_on_off(defaults.balance_classes)})",
    )
    parser.add_argument(
        "--towers",
        metavar="N",
        type=positive_int,
        default=defaults.towers,
        help="averaged MLP towers in the model (default: %(default)s)",
    )
    parser.add_argument(
        "--linear-ensemble",
        action=argparse.BooleanOptionalAction,
        default=defaults.linear_ensemble,
        help="average the trained MLP's probabilities with a softmax of 5 x the scores of a "
        "class-balanced LinearSVC (C=1, as the baseline) fitted on the same features and rows "
        f"(default: {_on_off(defaults.linear_ensemble)})",
    )
    parser.add_argument(
        "--refit",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="retrain on all training rows for the best epoch count (default: on, as training)",
    )
    parser.add_argument(
        "--skip-holdout", action="store_true", help="cross-validation only (model selection)"
    )
    parser.add_argument(
        "--skip-cv", action="store_true", help="held-out check only (once the choice is made)"
    )
    parser.add_argument(
        "--threads",
        metavar="N",
        type=positive_int,
        default=2,
        help="TensorFlow CPU threads (default: %(default)s)",
    )
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    return build_parser().parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the cross-validation and the held-out check; print the figures."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf  # noqa: PLC0415 - after the log level is set

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)

    rows = load_rows(args.data_dir)
    everything = np.arange(len(rows.labels))
    development, held_out = train_test_split(
        everything,
        test_size=args.holdout_fraction,
        stratify=rows.labels,
        random_state=args.seed,
    )
    predictors: dict[str, Predictor] = {
        TEXT_MODEL: text_model_predictor(rows.documents, rows.labels, args),
        CHAR_SVC: svc_predictor(rows.raw_texts, rows.labels, CHAR_SVC),
        WORD_CHAR_SVC: svc_predictor(rows.raw_texts, rows.labels, WORD_CHAR_SVC),
    }
    folds = RepeatedStratifiedKFold(
        n_splits=args.folds, n_repeats=args.repeats, random_state=args.seed
    )
    print(
        f"{len(rows.labels)} real rows: {len(development)} for "
        + ("no" if args.skip_cv else f"{args.repeats} x {args.folds}-fold stratified")
        + f" CV, {len(held_out)} held out (seed {args.seed})."
    )
    scores: dict[str, list[float]] = {name: [] for name in predictors}
    started = time.perf_counter()
    splits = [] if args.skip_cv else list(folds.split(development, rows.labels[development]))
    for number, (train, test) in enumerate(splits, start=1):
        train_rows, test_rows = development[train], development[test]
        for name, predictor in predictors.items():
            scores[name].append(
                weighted_f1(rows.labels[test_rows], predictor(train_rows, test_rows))
            )
        print(
            f"fold {number}/{len(splits)}: "
            + ", ".join(f"{name} {values[-1]:.4f}" for name, values in scores.items())
            + f" ({time.perf_counter() - started:.0f} s)",
            flush=True,
        )

    print(f"text model: {_settings(args)}")
    if splits:
        _print_cv(scores, args.folds)
    if args.skip_holdout:
        return

    labels = rows.labels[held_out]
    final = {name: predictor(development, held_out) for name, predictor in predictors.items()}
    print(f"\nHeld-out rows ({len(held_out)}), models trained on the {len(development)} others:")
    table = [["model", "weighted F1", "text model minus it (bootstrap 95%)"]]
    for name, values in final.items():
        gap = (
            ""
            if name == TEXT_MODEL
            else _range(bootstrap_interval(labels, final[TEXT_MODEL], values, args.seed))
        )
        table.append([name, f"{weighted_f1(labels, values):.4f}", gap])
    print_table(table)
    print(f"{time.perf_counter() - started:.0f} s in all")


if __name__ == "__main__":
    main()
