"""Catalogue scoring throughput and memory: the local engine against Spark, text and images.

Generates a catalogue of ``--products`` products in the original format (X.csv and 500x500
JPEGs), trains tiny text, image and fusion models on a separate small sample (unless
``--model-uri`` is given), then scores the catalogue with ``scripts.score_catalogue`` as a person
would (one process per run): text only (``--text-only``) and text + image, with the local engine
and with Spark (``--master local[2]`` by default). For each run it prints the wall time, the
rows per second end to end and in steady state (a run on ``--warm-rows`` rows measures the fixed
cost: start-up and model loading), and the peak resident memory of the driver process, of the
JVM and of Spark's Python workers (sampled every 0.2 s), with the load average. Run from
``datascience/``::

    python -m benchmarks.bench_score_catalogue                    # 10,000 products
    python -m benchmarks.bench_score_catalogue --products 2000 --skip-spark
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
from scripts.cli_support import MAX_DEMO_IMAGE_SIDE, MAX_SAMPLE_PRODUCTS, image_side, positive_int
from scripts.make_sample_dataset import sample_size

from benchmarks.tables import print_table
from benchmarks.training_support import generated_dataset, use_state_dir
from product_classifier.data.formats import X_FILE
from product_classifier.data.original import read_csv_file
from product_classifier.models.image import MIN_IMAGE_SIZE
from product_classifier.paths import REPOSITORY_ROOT
from product_classifier.synthetic.generator import write_sample_dataset
from product_classifier.training.plan import TrainingPlan, train_three_models

SAMPLE_SECONDS = 0.2
SUMMARY = re.compile(r"Scored (?P<rows>\d+) products .* in (?P<seconds>[\d.]+) s")


@dataclass(frozen=True)
class Run:
    """One scoring run and what it cost."""

    label: str
    rows: int
    seconds: float
    peak_driver_mb: float
    peak_jvm_mb: float
    peak_workers_mb: float
    peak_total_mb: float
    load_average: float


class MemorySampler(threading.Thread):
    """Samples the resident memory of a process tree: driver, JVM, Python workers."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.peaks = {"driver": 0.0, "jvm": 0.0, "workers": 0.0, "total": 0.0}
        self.stopped = threading.Event()

    def _sample(self) -> None:
        sums = {"driver": 0.0, "jvm": 0.0, "workers": 0.0}
        try:
            processes = [self.root, *self.root.children(recursive=True)]
        except psutil.Error:
            return
        for process in processes:
            try:
                rss = process.memory_info().rss / 2**20
                name = process.name()
            except psutil.Error:
                continue
            if process.pid == self.root.pid:
                sums["driver"] += rss
            elif name == "java":
                sums["jvm"] += rss
            elif name.startswith("python"):
                sums["workers"] += rss
        for key, value in sums.items():
            self.peaks[key] = max(self.peaks[key], value)
        self.peaks["total"] = max(self.peaks["total"], sum(sums.values()))

    def run(self) -> None:
        """Sample until stopped."""
        while not self.stopped.wait(SAMPLE_SECONDS):
            self._sample()


def score(label: str, arguments: list[str], environment: dict[str, str]) -> Run:
    """Run the scoring CLI once; return its figures."""
    command = [sys.executable, "-m", "scripts.score_catalogue", *arguments]
    started = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603 - our own CLI, our arguments
        command,
        cwd=REPOSITORY_ROOT / "datascience",
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    sampler = MemorySampler(process.pid)
    sampler.start()
    output, _ = process.communicate()
    seconds = time.perf_counter() - started
    sampler.stopped.set()
    sampler.join()
    match = SUMMARY.search(output)
    if process.returncode != 0 or match is None:
        raise RuntimeError(f"{label} failed ({process.returncode}):\n{output[-4000:]}")
    return Run(
        label=label,
        rows=int(match["rows"]),
        seconds=seconds,
        peak_driver_mb=sampler.peaks["driver"],
        peak_jvm_mb=sampler.peaks["jvm"],
        peak_workers_mb=sampler.peaks["workers"],
        peak_total_mb=sampler.peaks["total"],
        load_average=os.getloadavg()[0],
    )


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_score_catalogue",
        description="Rows/s and peak memory of catalogue scoring: local engine vs Spark, "
        "text only and text + image.",
    )
    parser.add_argument(
        "--products",
        metavar="N",
        type=sample_size,
        default=10_000,
        help=f"catalogue size, 1 to {MAX_SAMPLE_PRODUCTS:,} (default: %(default)s)",
    )
    parser.add_argument(
        "--warm-rows",
        metavar="N",
        type=positive_int,
        default=500,
        help="rows of the fixed-cost run (default: %(default)s)",
    )
    parser.add_argument(
        "--batch-size",
        metavar="N",
        type=positive_int,
        default=256,
        help="rows per model call (default: %(default)s)",
    )
    parser.add_argument("--master", default="local[2]", help="Spark master (default: %(default)s)")
    parser.add_argument("--skip-spark", action="store_true", help="measure the local engine only")
    parser.add_argument(
        "--model-uri",
        help="model to score with, from MLFLOW_TRACKING_URI (default: tiny models trained first)",
    )
    parser.add_argument(
        "--image-size",
        metavar="PX",
        type=image_side,
        default=64,
        help=f"tiny models' image side, {MIN_IMAGE_SIZE} to {MAX_DEMO_IMAGE_SIDE} "
        "(default: %(default)s)",
    )
    return parser


def _table(runs: list[Run], warm: dict[str, Run], cores: int) -> None:
    header = [
        "run",
        "rows",
        "wall s",
        "rows/s",
        "steady rows/s",
        "per core",
        "driver MB",
        "JVM MB",
        "workers MB",
        "total MB",
        "load",
    ]
    rows = [header]
    for run in runs:
        fixed = warm.get(run.label)
        steady = (
            (run.rows - fixed.rows) / (run.seconds - fixed.seconds)
            if fixed is not None and run.seconds > fixed.seconds
            else run.rows / run.seconds
        )
        rows.append(
            [
                run.label,
                str(run.rows),
                f"{run.seconds:.1f}",
                f"{run.rows / run.seconds:.0f}",
                f"{steady:.0f}",
                f"{steady / cores:.0f}",
                f"{run.peak_driver_mb:.0f}",
                f"{run.peak_jvm_mb:.0f}",
                f"{run.peak_workers_mb:.0f}",
                f"{run.peak_total_mb:.0f}",
                f"{run.load_average:.1f}",
            ]
        )
    print_table(rows)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark."""
    args = build_parser().parse_args(argv)
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="bench-score-") as temporary:
        work = Path(temporary)
        model_uri = args.model_uri
        if model_uri is None:  # a throw-away store; a given model is in the configured one
            tracking_uri = use_state_dir(work / "state")
            os.environ["MLFLOW_TRACKING_URI"] = tracking_uri
        environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
        if model_uri is None:
            print("Training tiny text, image and fusion models (throw-away MLflow store)...")
            dataset = generated_dataset(work / "training", 400, 7, args.image_size)
            plan = TrainingPlan(
                epochs=1, patience=1, image_size=args.image_size, purpose="benchmark"
            )
            model_uri = train_three_models(dataset, work / "models", plan)["fusion"].model_uri
        catalogue = work / "catalogue"
        started = time.perf_counter()
        write_sample_dataset(catalogue, args.products, seed=11)
        print(f"Generated {args.products} products in {time.perf_counter() - started:.0f} s.")
        warm_catalogue = work / "warm"
        warm_catalogue.mkdir()
        features = read_csv_file(catalogue / X_FILE, ["designation", "description"])
        features.head(args.warm_rows).to_csv(warm_catalogue / X_FILE)
        (warm_catalogue / "images").symlink_to(catalogue / "images")

        engines: list[tuple[str, list[str]]] = [("local", [])]
        if not args.skip_spark:
            engines.append(
                ("spark", ["--master", args.master, "--spark-conf", "spark.ui.enabled=false"])
            )
        runs: list[Run] = []
        warm: dict[str, Run] = {}
        for inputs, flags in (("text", ["--text-only"]), ("text+image", [])):
            for engine, engine_flags in engines:
                label = f"{engine} {inputs}"
                for folder, kept in ((warm_catalogue, warm), (catalogue, None)):
                    output = work / "scores" / f"{label.replace(' ', '-')}-{folder.name}.parquet"
                    arguments = [
                        "--model-uri",
                        model_uri,
                        "--input-dir",
                        str(folder),
                        "--output",
                        str(output),
                        "--engine",
                        engine,
                        "--batch-size",
                        str(args.batch_size),
                        *flags,
                        *engine_flags,
                    ]
                    print(f"Scoring {folder.name} ({label})...", flush=True)
                    run = score(label, arguments, environment)
                    if kept is not None:
                        kept[label] = run
                    else:
                        runs.append(run)
        print(
            f"\n{args.products} products; model {model_uri}"
            + ("" if args.model_uri else f" ({args.image_size}x{args.image_size} images)")
            + f"; batch {args.batch_size}; Spark master {args.master}; {cores} CPUs; "
            f"load average now {os.getloadavg()[0]:.1f}, {os.getloadavg()[1]:.1f}, "
            f"{os.getloadavg()[2]:.1f}."
        )
        print(
            "rows/s: end to end (start-up and model loading included); steady: after the fixed "
            f"cost measured on {args.warm_rows} rows; per core: steady / {cores}; memory: peak "
            "resident set, in MiB."
        )
        _table(runs, warm, cores)
    return 0


if __name__ == "__main__":
    sys.exit(main())
