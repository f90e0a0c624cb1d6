"""Quality check on a generated sample: fusion must score at least as well as text and image.

Generates products with the sample generator, makes a dataset folder (small images), trains the
text, image and fusion models on it in a throw-away MLflow store, and prints their scores on the
same test split. Exits 1 when fusion scores below the better of the two others. Run from
``datascience/``::

    python -m benchmarks.compare_models_generated [--n-products 3000] [--image-size 64] \
        [--epochs 100] [--train-patience 10] [--work-dir DIR]
"""

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

from scripts.cli_support import (
    MAX_DEMO_IMAGE_SIDE,
    MAX_SAMPLE_PRODUCTS,
    backbone_weights,
    image_side,
    positive_int,
    seed,
)
from scripts.make_sample_dataset import sample_size

from benchmarks.training_support import generated_dataset, use_state_dir
from product_classifier.models.image import MIN_IMAGE_SIZE
from product_classifier.training.plan import TrainingPlan, train_three_models


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.compare_models_generated",
        description="Train text, image and fusion models on a generated sample and compare their "
        "test scores (fusion must be at least as good as the better of the two).",
    )
    parser.add_argument(
        "--n-products",
        metavar="N",
        type=sample_size,
        default=3000,
        help=f"generated products, 1 to {MAX_SAMPLE_PRODUCTS:,} (default: %(default)s)",
    )
    parser.add_argument(
        "--seed", metavar="S", type=seed, default=42, help="generator seed (default: %(default)s)"
    )
    parser.add_argument(
        "--image-size",
        metavar="PX",
        type=image_side,
        default=64,
        help=f"image side in pixels, {MIN_IMAGE_SIZE} to {MAX_DEMO_IMAGE_SIDE} "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--epochs",
        metavar="N",
        type=positive_int,
        default=100,
        help="maximum epochs per phase (default: %(default)s)",
    )
    parser.add_argument(
        "--train-patience",
        metavar="N",
        type=positive_int,
        default=10,
        help="early-stopping patience in epochs (default: %(default)s)",
    )
    parser.add_argument(
        "--batch-size",
        metavar="N",
        type=positive_int,
        default=96,
        help="rows per batch (default: %(default)s)",
    )
    parser.add_argument(
        "--weights",
        type=backbone_weights,
        default="none",
        help="image backbone weights: none, imagenet or a file (default: %(default)s)",
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=None,
        help="keep data, models and MLflow store here (default: a temporary folder)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the comparison; return 0 when fusion is at least as good as text and image."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    with tempfile.TemporaryDirectory(prefix="compare-models-") as temporary:
        work_dir = args.work_dir or Path(temporary)
        work_dir.mkdir(parents=True, exist_ok=True)
        tracking_uri = use_state_dir(work_dir / "state")
        started = time.perf_counter()
        dataset = generated_dataset(work_dir, args.n_products, args.seed, args.image_size)
        plan = TrainingPlan(
            epochs=args.epochs,
            patience=args.train_patience,
            batch_size=args.batch_size,
            image_size=args.image_size,
            weights=args.weights,
            purpose="benchmark",
        )
        results = train_three_models(dataset, work_dir / "models", plan)
        elapsed = time.perf_counter() - started

    print(
        f"\nGenerated sample: {args.n_products} products (seed {args.seed}), "
        f"{args.image_size}px images, "
        f"same 20% test split for every model; {elapsed / 60:.1f} min in all."
    )
    print(f"MLflow store: {tracking_uri}" + ("" if args.work_dir else " (deleted)"))
    print(f"{'model':<8} {'test accuracy':>14} {'weighted F1':>12} {'epochs':>7}")
    for kind, result in results.items():
        metrics = result.metrics
        print(
            f"{kind:<8} {metrics['test_accuracy']:>14.4f} {metrics['test_f1_weighted']:>12.4f} "
            f"{int(metrics['epochs_trained']):>7}"
        )
    fusion = results["fusion"].metrics
    for view in ("text_only", "image_only"):
        print(
            f"  fusion, {view.replace('_', ' ')}: accuracy {fusion[f'test_{view}_accuracy']:.4f}, "
            f"weighted F1 {fusion[f'test_{view}_f1_weighted']:.4f}"
        )
    best = max(("text", "image"), key=lambda kind: results[kind].metrics["test_f1_weighted"])
    passed = all(
        fusion[metric] >= results[best].metrics[metric]
        for metric in ("test_accuracy", "test_f1_weighted")
    )
    verdict = "PASS" if passed else "FAIL"
    print(f"{verdict}: fusion vs the better single model ({best}) on accuracy and weighted F1.")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
