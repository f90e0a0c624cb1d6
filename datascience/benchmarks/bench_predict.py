"""Latency of the logged models on Keras and on ONNX Runtime: one row and batches of 256 rows.

For the text, image and fusion pyfunc models, each loaded on Keras (``MODEL_RUNTIME=keras``) and
on its ONNX export (the default), prints the median and p95 latency of the bare one-row call
``predict_products`` (image already decoded, as the API calls it) with the ratio to Keras, of a
one-row prediction through the pyfunc interface (a DataFrame, the image read from its path, as
``mlflow models serve`` does), and the rows per second of a 256-row batch; then the steps of one
bare call alone (TF-IDF with scikit-learn and with the fast transform, the ONNX graph whole on
the dense row and with the sparse first layer, wrapping). Run from ``datascience/``::

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
from typing import Any

import numpy as np
import pandas as pd
from PIL import Image
from scripts.cli_support import MAX_DEMO_IMAGE_SIDE, image_side, positive_int

from benchmarks.tables import print_table
from benchmarks.training_support import generated_dataset, use_state_dir
from product_classifier.data.dataset_folder import image_paths, read_split
from product_classifier.models.image import MIN_IMAGE_SIZE
from product_classifier.paths import resolve_from_root
from product_classifier.serving.contract import ProductInput, probabilities_to_predictions
from product_classifier.serving.features import product_documents, text_matrix
from product_classifier.serving.pyfunc import ONNX_ARTIFACT, ProductClassifier
from product_classifier.serving.runtime import RUNTIME_VARIABLE, Runtime
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
            help=f"{kind} model to measure (with any of the three: no training, only the models "
            "given, from the store MLFLOW_TRACKING_URI names; default: tiny models trained first)",
        )
    parser.add_argument(
        "--dataset",
        type=resolve_from_root,
        help="dataset folder whose test rows are the requests (default: 400 generated products; "
        "needed with model URIs)",
    )
    parser.add_argument(
        "--repeats",
        metavar="N",
        type=positive_int,
        default=200,
        help="one-row predictions per model (default: %(default)s)",
    )
    parser.add_argument(
        "--rounds",
        metavar="N",
        type=positive_int,
        default=5,
        help="alternating rounds of the runtimes (default: %(default)s)",
    )
    parser.add_argument(
        "--batch-rows",
        metavar="N",
        type=positive_int,
        default=256,
        help="rows of the batch (default: %(default)s)",
    )
    parser.add_argument(
        "--image-size",
        metavar="PX",
        type=image_side,
        default=64,
        help=f"image side of the tiny models, {MIN_IMAGE_SIZE} to {MAX_DEMO_IMAGE_SIDE} "
        "(default: %(default)s)",
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


def _alternating(
    calls: dict[str, Callable[[], object]], repeats: int, rounds: int
) -> dict[str, list[float]]:
    """Time each call ``repeats`` times in all, the calls taking turns in ``rounds`` rounds."""
    timings: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            timings[name] += _latencies(call, max(1, repeats // rounds))
    return timings


def _summary(timings: list[float]) -> list[str]:
    """Median and 95th percentile, formatted."""
    return [f"{statistics.median(timings):.2f}", f"{float(np.percentile(timings, 95)):.2f}"]


def _requests(dataset: Path, rows: int) -> pd.DataFrame:
    features, _ = read_split(dataset, "test")
    # Rows with text first: the one-row request is then a product with a title and an image.
    features = features.sort_values("designation", key=lambda column: column.isna(), kind="stable")
    repeated = features.iloc[np.arange(rows) % len(features)]
    return pd.DataFrame(
        {
            "product_id": [str(value) for value in repeated["productid"]],
            "designation": repeated["designation"].fillna("").tolist(),
            "description": repeated["description"].fillna("").tolist(),
            "image_path": [
                str(path) if path.is_file() else "" for path in image_paths(dataset, repeated)
            ],
        }
    )


def _product(designation: str, description: str, path: str) -> ProductInput:
    image = Image.open(path).convert("RGB") if Path(path).is_file() else None
    return ProductInput(designation=designation, description=description, image=image)


def _load(uri: str, runtime: Runtime) -> tuple[Any, ProductClassifier]:
    """Load a logged model on one runtime (``MODEL_RUNTIME`` is read when the model loads).

    Returns:
        The pyfunc model and its python model.
    """
    import mlflow.pyfunc  # noqa: PLC0415 - after the tracking URI is set

    previous = os.environ.get(RUNTIME_VARIABLE)
    os.environ[RUNTIME_VARIABLE] = runtime.value
    try:
        pyfunc = mlflow.pyfunc.load_model(uri)
    finally:
        if previous is None:
            os.environ.pop(RUNTIME_VARIABLE, None)
        else:
            os.environ[RUNTIME_VARIABLE] = previous
    model = pyfunc.unwrap_python_model()
    if not isinstance(model, ProductClassifier):
        raise TypeError(f"{uri} is not a product classifier.")
    return pyfunc, model


def _component_calls(
    model: ProductClassifier, product: ProductInput
) -> dict[str, Callable[[], object]]:
    """The steps of one bare call, each alone: featurize, run the model, wrap the answer."""
    from product_classifier.serving.onnx_runner import OnnxRunner  # noqa: PLC0415

    batch = model.features([product])
    whole_graph = OnnxRunner(model.artifact_paths[ONNX_ARTIFACT], sparse_input=None)
    probabilities = model.predict_probabilities([product])
    calls: dict[str, Callable[[], object]] = {
        "model call, ONNX whole graph (dense input)": partial(whole_graph, batch),
        "model call, ONNX + sparse first layer": partial(model.runner, batch),
        "wrapping (27 sorted entries)": partial(probabilities_to_predictions, probabilities),
    }
    if model.featurizer is not None:
        documents = product_documents([product.designation], [product.description])
        calls["TF-IDF, scikit-learn transform"] = partial(text_matrix, model.featurizer, documents)
        calls["TF-IDF, fast transform"] = partial(model.features, [product])
    return calls


def measure(
    uris: dict[str, str], dataset: Path, repeats: int, batch_rows: int, rounds: int = 5
) -> None:
    """Load each model on Keras and on ONNX Runtime; print latency and throughput tables.

    The bare call is ``predict_products`` on one decoded product (what the API calls); ``df``
    is the pyfunc ``predict`` on a one-row DataFrame whose image is read from its path (what
    ``mlflow models serve`` calls). The runtimes take turns in ``rounds`` rounds.
    """
    batch = _requests(dataset, batch_rows)
    one_row = batch.head(1)
    products = [
        _product(str(designation), str(description), str(path))
        for designation, description, path in zip(
            batch["designation"], batch["description"], batch["image_path"], strict=True
        )
    ]
    product = products[0]
    print(
        f"\nLoad average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (before); "
        f"{repeats} one-row calls per model and runtime, in {rounds} alternating rounds; "
        "times in ms."
    )
    header = ["model", "runtime", "bare p50", "bare p95", "vs keras", "df p50", "df p95"]
    table = [[*header, f"{batch_rows} rows/s"]]
    breakdown = [["model", "step (one row)", "p50", "p95"]]
    for kind, uri in uris.items():
        loaded = {runtime: _load(uri, runtime) for runtime in (Runtime.KERAS, Runtime.AUTO)}
        models = {runtime: model for runtime, (_, model) in loaded.items()}
        bare_calls: dict[str, Callable[[], object]] = {
            runtime: partial(model.predict_products, [product]) for runtime, model in models.items()
        }
        bare = _alternating(bare_calls, repeats, rounds)
        keras_median = statistics.median(bare[Runtime.KERAS])
        for runtime, model in models.items():
            frame = _latencies(partial(loaded[runtime][0].predict, one_row), max(20, repeats // 4))
            batched = _latencies(partial(model.predict_products, products), 3)
            table.append(
                [
                    kind,
                    str(model.runtime),
                    *_summary(bare[runtime]),
                    f"x{keras_median / statistics.median(bare[runtime]):.1f}",
                    *_summary(frame),
                    f"{batch_rows / statistics.median(batched) * 1000:.0f}",
                ]
            )
        onnx_model = models[Runtime.AUTO]
        if onnx_model.runtime is Runtime.ONNX:
            steps = _alternating(_component_calls(onnx_model, product), repeats, rounds)
            breakdown += [[kind, step, *_summary(times)] for step, times in steps.items()]
    print_table(table)
    print()
    print_table(breakdown)
    print(f"\nLoad average {os.getloadavg()[0]:.1f} (after).")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    given = {kind: getattr(args, f"{kind}_model_uri") for kind in KINDS}
    if any(given.values()):
        if args.dataset is None:
            print(
                "error: --dataset is needed with model URIs (its test rows are the requests)",
                file=sys.stderr,
            )
            return 2
        measure(
            {kind: str(uri) for kind, uri in given.items() if uri},
            args.dataset,
            args.repeats,
            args.batch_rows,
            args.rounds,
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
            args.rounds,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
