"""Latency of the logged models: one-row predictions and batches of 256 rows.

For the text, image and fusion pyfunc models, prints the median and p95 latency of a one-row
prediction through the pyfunc interface (a DataFrame, the image read from its path, as
``mlflow models serve`` does) and through ``predict_products`` (image already decoded, as the API
does), and the rows per second of a 256-row batch. Run from ``datascience/``::

    python -m benchmarks.bench_predict                      # trains tiny models first
    python -m benchmarks.bench_predict --text-model-uri models:/text/3 \
        --image-model-uri models:/image/2 --fusion-model-uri models:/fusion@production \
        --dataset var/datasets/sample                       # uses MLFLOW_TRACKING_URI

The models never call ``keras.Model.predict`` per request; this measures what that buys.
"""

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from benchmarks.tables import print_table
from benchmarks.training_support import generated_dataset, use_state_dir
from product_classifier.data.dataset_folder import image_paths, read_split
from product_classifier.paths import resolve_from_root
from product_classifier.serving.contract import ProductInput
from product_classifier.training.plan import TrainingPlan, train_three_models

KINDS = ("text", "image", "fusion")


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_predict",
        description="Measure one-row latency (median, p95) and 256-row throughput of the text, "
        "image and fusion pyfunc models.",
    )
    for kind in KINDS:
        parser.add_argument(
            f"--{kind}-model-uri",
            help=f"{kind} model to measure (with all three: no training, MLFLOW_TRACKING_URI "
            "says where they are)",
        )
    parser.add_argument(
        "--dataset", type=resolve_from_root, help="dataset folder whose test rows are the requests"
    )
    parser.add_argument(
        "--repeats", type=int, default=200, help="one-row predictions per model (default: 200)"
    )
    parser.add_argument(
        "--batch-rows", type=int, default=256, help="rows of the batch (default: 256)"
    )
    parser.add_argument(
        "--image-size", type=int, default=64, help="image size of the tiny models (default: 64)"
    )
    return parser


def _latencies(call: Callable[[], object], repeats: int) -> list[float]:
    call()  # warm-up (the models warm up when they load; this warms the caches of this loop)
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000.0)
    return timings


def _summary(timings: list[float]) -> list[str]:
    """Median and 95th percentile, formatted."""
    return [f"{statistics.median(timings):.2f}", f"{float(np.percentile(timings, 95)):.2f}"]


def _requests(dataset: Path, rows: int) -> pd.DataFrame:
    features, _ = read_split(dataset, "test")
    repeated = features.iloc[np.arange(rows) % len(features)]
    return pd.DataFrame(
        {
            "product_id": [str(value) for value in repeated["productid"]],
            "designation": repeated["designation"].tolist(),
            "description": repeated["description"].tolist(),
            "image_path": [str(path) for path in image_paths(dataset, repeated)],
        }
    )


def measure(uris: dict[str, str], dataset: Path, repeats: int, batch_rows: int) -> None:
    """Load each model and print its latency and throughput table."""
    import mlflow.pyfunc  # noqa: PLC0415 - after the tracking URI is set

    batch = _requests(dataset, batch_rows)
    one_row = batch.head(1)
    product = ProductInput(
        designation=one_row["designation"].iloc[0],
        description=one_row["description"].iloc[0],
        image=Image.open(one_row["image_path"].iloc[0]).convert("RGB"),
    )
    products = [
        ProductInput(
            designation=str(designation),
            description=str(description),
            image=Image.open(str(path)).convert("RGB"),
        )
        for designation, description, path in zip(
            batch["designation"], batch["description"], batch["image_path"], strict=True
        )
    ]
    print(
        f"\nLoad average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; "
        f"{repeats} one-row calls per model; times in ms."
    )
    header = ["model", "df median", "df p95", "products median", "products p95"]
    header += [f"{batch_rows} rows/s df", f"{batch_rows} rows/s products"]
    table = [header]
    for kind, uri in uris.items():
        model = mlflow.pyfunc.load_model(uri)
        python_model = model.unwrap_python_model()
        frame_times = _latencies(partial(model.predict, one_row), repeats)
        product_times = _latencies(partial(python_model.predict_products, [product]), repeats)
        frame_batch = _latencies(partial(model.predict, batch), 3)
        products_batch = _latencies(partial(python_model.predict_products, products), 3)
        table.append(
            [
                kind,
                *_summary(frame_times),
                *_summary(product_times),
                f"{batch_rows / statistics.median(frame_batch) * 1000:.0f}",
                f"{batch_rows / statistics.median(products_batch) * 1000:.0f}",
            ]
        )
    print_table(table)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    given = {kind: getattr(args, f"{kind}_model_uri") for kind in KINDS}
    if all(given.values()):
        if args.dataset is None:
            print(
                "error: --dataset is needed with model URIs (its test rows are the requests)",
                file=sys.stderr,
            )
            return 2
        measure(
            {kind: str(uri) for kind, uri in given.items()},
            args.dataset,
            args.repeats,
            args.batch_rows,
        )
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-predict-") as temporary:
        work_dir = Path(temporary)
        use_state_dir(work_dir / "state")
        dataset = args.dataset or generated_dataset(work_dir, 400, 7, args.image_size)
        print(
            "Training tiny text, image and fusion models (a few epochs, throw-away MLflow store)..."
        )
        plan = TrainingPlan(epochs=2, patience=2, image_size=args.image_size, purpose="benchmark")
        results = train_three_models(dataset, work_dir / "models", plan)
        measure(
            {kind: result.model_uri for kind, result in results.items()},
            dataset,
            args.repeats,
            args.batch_rows,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
