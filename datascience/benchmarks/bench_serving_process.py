r"""Memory and start-up of a process that serves a logged model, on ONNX Runtime and on Keras.

For each model URI, runtime and loader, starts a fresh Python process that imports what a
serving process imports, one library after the other, loads the model (``pyfunc``: with
``mlflow.pyfunc.load_model``, as ``mlflow models serve`` and batch scoring do; ``artifacts``:
from the artifacts its runtime reads, as the API does, see
:mod:`product_classifier.serving.logged_model`), answers one prediction, then 1,000 more; it
reports its resident memory (RSS) after each step and the time from the process start to the
first prediction (the model is in the local store), with the CPU time the process used (less
sensitive than wall time to a busy machine).
Run from ``datascience/``, with the store the models are in::

    MLFLOW_TRACKING_URI=sqlite:///../var/mlflow/mlflow.db \
        python -m benchmarks.bench_serving_process --model-uri models:/text/1 \
        --model-uri models:/fusion/1 --dataset var/datasets/real
"""

import argparse
import itertools
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from scripts.cli_support import non_negative_int

from benchmarks.tables import print_table
from product_classifier.data.dataset_folder import image_paths, read_split
from product_classifier.paths import resolve_from_root
from product_classifier.serving.runtime import RUNTIME_VARIABLE

CHILD = textwrap.dedent(
    """
    import json, resource, sys, time

    def rss_mb():
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    uri, request, predictions = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
    loader = sys.argv[4]
    steps = [("python", rss_mb(), time.time(), time.process_time())]
    if loader == "pyfunc":
        modules = ("numpy", "pandas", "PIL.Image", "scipy.sparse", "sklearn", "onnxruntime",
                   "mlflow.pyfunc")
    else:
        modules = ("numpy", "PIL.Image", "scipy.sparse", "onnxruntime", "mlflow")
    for name in modules:
        __import__(name)
        steps.append(("+ " + name, rss_mb(), time.time(), time.process_time()))
    from PIL import Image
    from product_classifier.serving.contract import ProductInput
    if loader == "pyfunc":
        python_model = sys.modules["mlflow.pyfunc"].load_model(uri).unwrap_python_model()
    else:
        from product_classifier.serving.logged_model import load_logged_model
        python_model = load_logged_model(uri).predictor
    steps.append((f"+ load ({loader})", rss_mb(), time.time(), time.process_time()))
    image = Image.open(request["image_path"]).convert("RGB") if request["image_path"] else None
    product = ProductInput(request["designation"], request["description"], image)
    python_model.predict_products([product])
    steps.append(("+ first prediction", rss_mb(), time.time(), time.process_time()))
    for _ in range(predictions):
        python_model.predict_products([product])
    steps.append((f"+ {predictions} predictions", rss_mb(), time.time(), time.process_time()))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    heavy = sorted(name for name in sys.modules if name.split(".")[0] in ("tensorflow", "keras"))
    print(json.dumps({"steps": steps, "peak": peak, "runtime": str(python_model.runtime),
                      "tensorflow_modules": len(heavy), "sklearn": "sklearn" in sys.modules}))
    """
)


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_serving_process",
        description="RSS and start-up time of a fresh process serving a logged model "
        "(ONNX Runtime and Keras).",
    )
    parser.add_argument(
        "--model-uri", action="append", required=True, help="model to serve (repeatable; required)"
    )
    parser.add_argument(
        "--dataset",
        type=resolve_from_root,
        required=True,
        help="dataset folder whose first test row with text is the request (required)",
    )
    parser.add_argument(
        "--runtime",
        action="append",
        choices=["onnx", "keras"],
        help="runtimes to measure (default: both)",
    )
    parser.add_argument(
        "--loader",
        action="append",
        choices=["pyfunc", "artifacts"],
        help="how the model is loaded (default: both)",
    )
    parser.add_argument(
        "--predictions",
        metavar="N",
        type=non_negative_int,
        default=1000,
        help="predictions after the first (default: %(default)s)",
    )
    return parser


def _request(dataset: Path) -> dict[str, str]:
    features, _ = read_split(dataset, "test")
    row = features[features["designation"].notna()].head(1)
    path = image_paths(dataset, row)[0]
    return {
        "designation": str(row["designation"].iloc[0]),
        "description": "" if row["description"].isna().iloc[0] else str(row["description"].iloc[0]),
        "image_path": str(path) if path.is_file() else "",
    }


def _serve(
    uri: str, runtime: str, loader: str, request: dict[str, str], predictions: int
) -> dict[str, object]:
    """Run one fresh serving process; return its report and its start time."""
    environment = dict(os.environ, **{RUNTIME_VARIABLE: runtime})
    started = time.time()
    completed = subprocess.run(  # noqa: S603 - this Python, our script
        [sys.executable, "-c", CHILD, uri, json.dumps(request), str(predictions), loader],
        capture_output=True,
        text=True,
        check=False,
        env=environment,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{uri} on {runtime} failed:\n{completed.stderr[-2000:]}")
    report: dict[str, object] = json.loads(completed.stdout.strip().splitlines()[-1])
    report["started"] = started
    return report


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print one table per model and runtime."""
    args = build_parser().parse_args(argv)
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    request = _request(args.dataset)
    print(f"Load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs.")
    for uri in args.model_uri:
        for runtime, loader in itertools.product(
            args.runtime or ["onnx", "keras"], args.loader or ["pyfunc", "artifacts"]
        ):
            report = _serve(uri, runtime, loader, request, args.predictions)
            steps = report["steps"]
            assert isinstance(steps, list)
            started = float(str(report["started"]))
            table = [["step", "RSS MB", "s since start", "CPU s"]]
            table += [
                [name, f"{rss:.0f}", f"{at - started:.2f}", f"{cpu:.2f}"]
                for name, rss, at, cpu in steps
            ]
            print(
                f"\n{uri} on {report['runtime']} ({RUNTIME_VARIABLE}={runtime}, {loader} loader); "
                f"peak RSS {float(str(report['peak'])):.0f} MB; "
                f"TensorFlow/Keras modules loaded: {report['tensorflow_modules']}; "
                f"scikit-learn loaded: {report['sklearn']}"
            )
            print_table(table)
    print(f"\nLoad average {os.getloadavg()[0]:.1f} (after).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
