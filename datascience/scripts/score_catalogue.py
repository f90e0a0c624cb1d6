"""Score a whole catalogue with a registered model, on this machine or on Apache Spark.

Run from ``datascience/``::

    python -m scripts.score_catalogue --model-uri models:/fusion@production \
        --input-dir var/data/sample --output var/scores/sample.parquet
    python -m scripts.score_catalogue --model-uri models:/fusion/3 --input catalogue.parquet \
        --output var/scores/catalogue.parquet --engine spark --master spark://host:7077
"""

import argparse
import sys
from collections.abc import Sequence
from typing import Final

from product_classifier.data.original import DatasetError
from product_classifier.scoring.columns import MAX_TOP_K, MIN_TOP_K
from product_classifier.scoring.images import is_uri
from scripts.cli_support import (
    bounded_int,
    first_line,
    interrupted,
    positive_int,
    root_path,
    start_command,
)

EXIT_INPUT_ERROR = 1
DEFAULT_BATCH_SIZE = 256
DEFAULT_ROWS_PER_PART = 20_000


def location(text: str) -> str:
    """Parse a path or URI; relative paths are resolved from the repository root."""
    return text if is_uri(text) else str(root_path(text))


def top_k(text: str) -> int:
    """Parse ``--top-k``: 1 to 27 categories."""
    value = positive_int(text)
    if not MIN_TOP_K <= value <= MAX_TOP_K:
        raise argparse.ArgumentTypeError(f"{value} is not between {MIN_TOP_K} and {MAX_TOP_K}")
    return value


MAX_PARTITIONS: Final = 100_000
"""Most Spark partitions (each is a task with its own model load and output file)."""


def partitions(text: str) -> int:
    """Parse ``--partitions``: 1 to :data:`MAX_PARTITIONS`."""
    return bounded_int(text, 1, MAX_PARTITIONS)


def spark_setting(text: str) -> tuple[str, str]:
    """Parse ``--spark-conf KEY=VALUE``."""
    key, separator, value = text.partition("=")
    if not separator or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key.strip(), value


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(
        prog="python -m scripts.score_catalogue",
        description=(
            "Predict the categories of every product of a catalogue with a registered model "
            "and write them as Parquet: productid, the top-k categories and their "
            "probabilities (percent), the model name and version, the time of scoring, and an "
            "error column. Rows that cannot be scored (an image that cannot be read, no text "
            "and no image) are written with their error, never dropped."
        ),
        epilog=(
            "The output is a folder of Parquet part files (read it with pandas.read_parquet, "
            "pyarrow, Spark or DuckDB). The local engine resumes an interrupted run: run the "
            "same command again and the parts already written are kept. Relative paths are "
            "resolved from the repository root; URIs (s3a://, hdfs://) are for the Spark "
            "engine. Tracking: MLFLOW_TRACKING_URI (default: the SQLite store under STATE_DIR)."
        ),
    )
    parser.add_argument(
        "--model-uri",
        required=True,
        help="model to score with: models:/NAME@ALIAS (resolved to its version once, at the "
        "start), models:/NAME/VERSION, models:/NAME/latest, runs:/... or a model folder",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--input-dir",
        metavar="DIR",
        type=location,
        help="folder in the original format: X.csv (designation, description, productid, "
        "imageid) and images/image_{imageid}_product_{productid}.jpg",
    )
    source.add_argument(
        "--input",
        metavar="FILE",
        type=location,
        help="Parquet or CSV table with productid, designation, description and optionally "
        "image_path or image_uri (relative paths start from the table's folder)",
    )
    parser.add_argument(
        "--output", metavar="DIR", type=location, required=True, help="output Parquet folder"
    )
    parser.add_argument(
        "--engine",
        choices=("local", "spark"),
        default="local",
        help="local: this process, resumable (default); spark: Apache Spark",
    )
    parser.add_argument(
        "--master",
        metavar="URL",
        help="Spark master (default: spark-submit's, else local[*]); e.g. spark://host:7077, "
        "yarn, k8s://https://host:443",
    )
    parser.add_argument(
        "--top-k",
        metavar="K",
        type=top_k,
        default=3,
        help="categories kept per product, most probable first (1-27, default: 3)",
    )
    parser.add_argument(
        "--batch-size",
        metavar="N",
        type=positive_int,
        default=DEFAULT_BATCH_SIZE,
        help=f"rows per model call (default: {DEFAULT_BATCH_SIZE})",
    )
    parser.add_argument(
        "--rows-per-part",
        metavar="N",
        type=positive_int,
        default=DEFAULT_ROWS_PER_PART,
        help="local engine: rows per part file, the unit of memory and of resumption "
        f"(default: {DEFAULT_ROWS_PER_PART})",
    )
    parser.add_argument(
        "--partitions",
        metavar="N",
        type=partitions,
        help=f"spark engine: partitions the rows are spread over, 1 to {MAX_PARTITIONS:,} "
        "(default: twice the cores)",
    )
    parser.add_argument(
        "--spark-conf",
        metavar="KEY=VALUE",
        type=spark_setting,
        action="append",
        default=[],
        help="spark engine: a Spark setting, repeatable (e.g. spark.executor.memory=4g)",
    )
    parser.add_argument(
        "--text-only",
        action="store_true",
        help="ignore images: score every product from its text alone",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return the process exit code."""
    args = build_parser().parse_args(argv)
    start_command()
    # Imported here so that --help answers without loading MLflow.
    from mlflow.exceptions import MlflowException  # noqa: PLC0415

    from product_classifier.output_lock import (  # noqa: PLC0415
        EXIT_OUTPUT_BUSY,
        OutputBusyError,
        OutputLockError,
    )
    from product_classifier.scoring.catalogue import (  # noqa: PLC0415
        describe_original,
        describe_table,
    )
    from product_classifier.scoring.job import (  # noqa: PLC0415
        OutputConflictError,
        ScoringJob,
        lock_output,
        prepare_output,
    )
    from product_classifier.scoring.model_reference import resolve_model  # noqa: PLC0415
    from product_classifier.scoring.spark_engine import (  # noqa: PLC0415
        SparkJobError,
        SparkUnavailableError,
        interrupted_spark_output,
    )
    from product_classifier.serving.runtime import requested_runtime  # noqa: PLC0415
    from product_classifier.tracking.registry import RegistryError  # noqa: PLC0415
    from product_classifier.tracking.setup import configure_tracking  # noqa: PLC0415

    try:  # before anything is written: the model loads (in each worker) with it
        requested_runtime()
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    try:
        # Held for the whole job: a second job into the same folder is refused at once.
        with lock_output(args.output):
            configure_tracking(existing=True)
            catalogue = (
                describe_original(args.input_dir, text_only=args.text_only)
                if args.input_dir is not None
                else describe_table(args.input, text_only=args.text_only)
            )
            job = ScoringJob(
                catalogue=catalogue,
                output=args.output,
                model=resolve_model(args.model_uri),
                top_k=args.top_k,
                batch_size=args.batch_size,
                rows_per_part=args.rows_per_part,
            )
            if args.engine == "local":
                from product_classifier.scoring.local_engine import score_locally  # noqa: PLC0415

                job = prepare_output(job)
                summary = score_locally(job)
            else:
                from product_classifier.scoring.spark_engine import (  # noqa: PLC0415
                    SparkOptions,
                    score_on_spark,
                )

                options = SparkOptions(
                    master=args.master, partitions=args.partitions, conf=dict(args.spark_conf)
                )
                summary = score_on_spark(job, options)
    except (
        DatasetError,
        RegistryError,
        OutputConflictError,
        OutputLockError,
        SparkUnavailableError,
        SparkJobError,
    ) as error:
        print(f"error: {error}", file=sys.stderr)
        # Another job using the output folder: a status of its own, to tell it apart.
        return EXIT_OUTPUT_BUSY if isinstance(error, OutputBusyError) else EXIT_INPUT_ERROR
    except MlflowException as error:  # a model that cannot be found or loaded, a store down
        print(f"error: {args.model_uri}: {first_line(error.message)}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    except KeyboardInterrupt:
        if args.engine == "spark":
            return interrupted(interrupted_spark_output(args.output))
        return interrupted("the parts written so far are kept; the same command resumes")
    version = f" version {job.model.version}" if job.model.version else ""
    kept = (
        f", {summary.parts_skipped} part(s) kept from an earlier run"
        if summary.parts_skipped
        else ""
    )
    print(
        f"Scored {summary.rows} products with {job.model.name}{version} into {job.output} "
        f"({summary.errors} with an error{kept}) in {summary.seconds:.1f} s "
        f"({summary.rows_per_second:.0f} rows/s)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
