"""Benchmark the sample generator and create_datasets on generated products.

Targets (issue 2): generating 3,000 products under 30 s, create_datasets on them under 60 s, on a
2-core machine. Run from ``datascience/``::

    python -m benchmarks.bench_create_datasets [--n-products 3000] [--repeats 1] [--workers N]

Prints, for each step, the median and worst wall-clock time of the repeats, the images per
second and the CPU time (which, unlike wall-clock time, does not grow when other processes share
the machine), with the load average for context.
"""

import argparse
import logging
import os
import resource
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

from scripts.cli_support import MAX_SAMPLE_PRODUCTS, positive_int
from scripts.make_sample_dataset import sample_size

from product_classifier.data.creation import CreationOptions, create_datasets
from product_classifier.data.parallel import default_workers
from product_classifier.preprocessing.image import DEFAULT_IMAGE_SIZE
from product_classifier.synthetic.generator import write_sample_dataset

GENERATOR_TARGET_SECONDS = 30.0
CREATION_TARGET_SECONDS = 60.0


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the worker processes)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _time(step: Callable[[], object]) -> tuple[float, float]:
    """Run ``step``; return its wall-clock and CPU seconds."""
    started, cpu_started = time.perf_counter(), _cpu_seconds()
    step()
    return time.perf_counter() - started, _cpu_seconds() - cpu_started


def _report(name: str, timings: list[tuple[float, float]], images: int, target: float) -> None:
    walls = [wall for wall, _ in timings]
    median, worst = statistics.median(walls), max(walls)
    cpu = statistics.median(cpu for _, cpu in timings)
    verdict = "OK" if worst < target else "TOO SLOW"
    print(
        f"{name:<16} median {median:6.1f} s  worst {worst:6.1f} s  {images / median:7.1f} images/s"
        f"  (CPU {cpu:5.1f} s)  target < {target:.0f} s: {verdict}"
    )


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_create_datasets",
        description=__doc__.splitlines()[0],
    )
    parser.add_argument(
        "--n-products",
        metavar="N",
        type=sample_size,
        default=3000,
        help=f"products generated, then split by create_datasets, 1 to {MAX_SAMPLE_PRODUCTS:,} "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--repeats",
        metavar="N",
        type=positive_int,
        default=1,
        help="runs of both steps; the median and the worst are reported (default: %(default)s)",
    )
    parser.add_argument(
        "--workers",
        metavar="N",
        type=positive_int,
        default=default_workers(),
        help="processes of both steps (default: the number of CPUs, %(default)s here)",
    )
    parser.add_argument(
        "--image-size",
        metavar="PX",
        type=positive_int,
        default=DEFAULT_IMAGE_SIZE,
        help="side of the images create_datasets writes, in pixels (default: %(default)s)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print its figures."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    load_before = os.getloadavg()[0]

    generation: list[tuple[float, float]] = []
    creation: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory(prefix="bench-create-datasets-") as folder:
        root = Path(folder)
        for run in range(args.repeats):
            sample, dataset = root / f"sample-{run}", root / f"dataset-{run}"
            generation.append(
                _time(
                    partial(
                        write_sample_dataset,
                        sample,
                        args.n_products,
                        seed=run,
                        workers=args.workers,
                    )
                )
            )
            options = CreationOptions(
                input_dir=sample,
                output_dir=dataset,
                workers=args.workers,
                image_size=args.image_size,
            )
            creation.append(_time(partial(create_datasets, options)))

    print(
        f"{args.n_products} products, {args.workers} workers, {args.repeats} repeat(s), "
        f"{args.image_size}px images; load average before: {load_before:.1f}, "
        f"after: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    _report("generator", generation, args.n_products, GENERATOR_TARGET_SECONDS)
    _report("create_datasets", creation, args.n_products, CREATION_TARGET_SECONDS)


if __name__ == "__main__":
    main()
