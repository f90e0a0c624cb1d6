"""Score a catalogue on Apache Spark: Spark reads the input, a pandas UDF runs the model.

The model is downloaded once on the driver and shipped to the executors with
``SparkContext.addFile``; each Python worker loads it once with ``mlflow.pyfunc.load_model``
(its public pyfunc interface, whatever runtime the model uses inside) and scores the rows of
its partitions with :func:`product_classifier.scoring.rows.score_rows`, in Arrow batches of
``batch_size`` rows (``mapInPandas``): the same code and row rules as the local engine. This is
what ``mlflow.pyfunc.spark_udf`` does, except that ``spark_udf`` can return neither our ranked
categories (an array of structs) nor an error per row: a bad row would fail its whole task.

Images are read on the executors from the paths or URIs of the rows, so they must be
reachable there (local paths in ``local[*]`` mode, ``s3a://`` or ``hdfs://`` URIs on a cluster,
with the matching fsspec implementation installed on the executors).
"""

import logging
import os
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pandas as pd

from product_classifier.data.original import DatasetError
from product_classifier.scoring.catalogue import (
    Catalogue,
    CatalogueFormat,
    model_rows,
    with_image_column,
)
from product_classifier.scoring.columns import ERROR, spark_ddl
from product_classifier.scoring.images import is_uri
from product_classifier.scoring.job import OutputConflictError, ScoringJob, ScoringSummary
from product_classifier.scoring.model_reference import load_pyfunc
from product_classifier.scoring.rows import ScoringSettings, score_rows

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

logger = logging.getLogger(__name__)

DEFAULT_MASTER: Final = "local[*]"
PARTITIONS_PER_CORE: Final = 2
"""Input partitions per core when ``--partitions`` is not given (keeps every core busy)."""
PANDAS_WARNING: Final = "PySpark does not yet fully support pandas"
"""pyspark warns on every batch under pandas 3; the engines' equality test watches the results."""
CSV_OPTIONS: Final = {"header": "true", "multiLine": "true", "escape": '"', "mode": "PERMISSIVE"}
"""Spark's CSV reader set to read what pandas writes and reads (quoted multi-line fields)."""


class SparkUnavailableError(RuntimeError):
    """Spark could not start (no Java, no pyspark...): a message for a person."""


@dataclass(frozen=True)
class SparkOptions:
    """How to run Spark.

    Attributes:
        master: Spark master URL (``None``: ``spark-submit``'s, else ``local[*]``).
        partitions: Partitions the input is spread over (``None``: twice the cores).
        conf: Extra Spark settings (``spark.executor.memory``...).
    """

    master: str | None = None
    partitions: int | None = None
    conf: Mapping[str, str] = field(default_factory=dict)


def _master(options: SparkOptions) -> str | None:
    if options.master:
        return options.master
    if "PYSPARK_GATEWAY_PORT" in os.environ:  # started by spark-submit: keep its master
        return None
    return DEFAULT_MASTER


def build_session(options: SparkOptions, batch_size: int) -> "SparkSession":
    """Start (or join) a Spark session set up for scoring.

    Raises:
        SparkUnavailableError: pyspark is missing or the JVM does not start.
    """
    try:
        from pyspark.sql import SparkSession  # noqa: PLC0415 - optional dependency
    except ImportError as error:
        raise SparkUnavailableError(
            f"pyspark is not installed ({error}): install the datascience[spark] extra."
        ) from None
    warnings.filterwarnings("ignore", message=PANDAS_WARNING, category=FutureWarning)
    master = _master(options)
    builder = SparkSession.builder.appName("score_catalogue")
    if master is not None:
        builder = builder.master(master)
        if master.startswith("local"):
            # The Python workers of local mode run this interpreter (with our packages).
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    settings = {
        "spark.sql.execution.arrow.maxRecordsPerBatch": str(batch_size),
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
        **options.conf,
    }
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        return builder.getOrCreate()
    except Exception as error:  # py4j and JVM start-up errors have no common type
        first = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        raise SparkUnavailableError(f"Spark did not start: {first}") from error


def read_catalogue(spark: "SparkSession", catalogue: Catalogue) -> tuple["DataFrame", Catalogue]:
    """Read the catalogue with Spark's readers, every needed column as text.

    Returns:
        The rows, and the catalogue with its image column found (for remote tables).

    Raises:
        DatasetError: A needed column is missing.
    """
    from pyspark.sql import functions as F  # noqa: N812, PLC0415 - Spark's own convention

    location = catalogue.table_location
    if catalogue.format is CatalogueFormat.PARQUET:
        frame = spark.read.parquet(location)
    else:
        frame = spark.read.options(**CSV_OPTIONS).csv(location)
    catalogue = with_image_column(catalogue, list(frame.columns))
    missing = [name for name in catalogue.text_columns if name not in frame.columns]
    if missing:
        raise DatasetError(
            f"Invalid {location}: missing column(s) {', '.join(missing)}; found "
            f"{', '.join(frame.columns) or 'no columns'}."
        )
    return frame.select(
        *[F.col(name).cast("string").alias(name) for name in catalogue.text_columns]
    ), catalogue


_WORKER_MODELS: dict[str, Any] = {}
"""Models loaded by this Python worker, by local path (workers are reused across tasks)."""


@dataclass(frozen=True)
class PartitionScorer:
    """The pandas UDF: scores the Arrow batches of one partition (pickled to the executors)."""

    catalogue: Catalogue
    settings: ScoringSettings
    model_file: str
    """Name given to ``SparkContext.addFile`` (the model folder's parent)."""
    model_subpath: str
    """Path of the model folder inside it."""
    batch_size: int

    def model(self) -> Any:
        """Load the model on first use in this worker, then reuse it."""
        from pyspark import SparkFiles  # noqa: PLC0415

        path = str(Path(SparkFiles.get(self.model_file)) / self.model_subpath)
        if path not in _WORKER_MODELS:
            warnings.filterwarnings("ignore", message=PANDAS_WARNING, category=FutureWarning)
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
            _WORKER_MODELS[path] = load_pyfunc(path)
        return _WORKER_MODELS[path]

    def __call__(self, batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        """Score every batch of the partition, ``batch_size`` rows per model call."""
        model = self.model()
        for raw in batches:
            rows = model_rows(raw, self.catalogue)
            for start in range(0, len(rows), self.batch_size):
                yield score_rows(model, rows.iloc[start : start + self.batch_size], self.settings)


def _ship_model(spark: "SparkSession", load_uri: str, folder: Path) -> tuple[str, str]:
    """Download the model on the driver and add it to the files every executor receives."""
    import mlflow.artifacts  # noqa: PLC0415

    name = f"catalogue-model-{uuid.uuid4().hex[:12]}"
    root = folder / name
    root.mkdir()
    local = Path(mlflow.artifacts.download_artifacts(artifact_uri=load_uri, dst_path=str(root)))
    spark.sparkContext.addFile(str(root), recursive=True)
    return name, str(local.relative_to(root))


def _check_output_is_free(output: str) -> None:
    if not is_uri(output) and Path(output).exists():
        raise OutputConflictError(
            f"{output} exists: the Spark engine writes a new folder; choose another --output "
            "or delete it (the local engine resumes an interrupted output instead)."
        )


def score_on_spark(
    job: ScoringJob, options: SparkOptions, spark: "SparkSession | None" = None
) -> ScoringSummary:
    """Score the catalogue of ``job`` with Spark and write it as a Parquet folder.

    Args:
        job: What to score and where to write it (a new folder).
        options: Master, partitions, Spark settings.
        spark: A session to use (and leave running); default: one started and stopped here.

    Returns:
        What the output holds.

    Raises:
        SparkUnavailableError: Spark did not start.
        DatasetError: The input lacks a column.
        OutputConflictError: The output exists.
    """
    from pyspark.sql import functions as F  # noqa: N812, PLC0415

    _check_output_is_free(job.output)
    started = time.perf_counter()
    from pyspark.sql import SparkSession  # noqa: PLC0415

    # A session given, or already running in this process, is left running for its owner.
    own_session = spark is None and SparkSession.getActiveSession() is None
    session = spark or build_session(options, job.batch_size)
    try:
        raw, catalogue = read_catalogue(session, job.catalogue)
        partitions = (
            options.partitions or PARTITIONS_PER_CORE * session.sparkContext.defaultParallelism
        )
        with tempfile.TemporaryDirectory(prefix="score-catalogue-") as temporary:
            model_file, model_subpath = _ship_model(session, job.model.load_uri, Path(temporary))
            scorer = PartitionScorer(
                catalogue=catalogue,
                settings=ScoringSettings(job.top_k, job.model.name, job.model.version),
                model_file=model_file,
                model_subpath=model_subpath,
                batch_size=job.batch_size,
            )
            logger.info(
                "Scoring %s with %s on Spark (%s, %d partitions)...",
                catalogue.location,
                job.model.load_uri,
                session.sparkContext.master,
                partitions,
            )
            scored = raw.repartition(partitions).mapInPandas(scorer, schema=spark_ddl(job.top_k))
            scored.write.mode("errorifexists").parquet(job.output)
        totals = session.read.parquet(job.output).agg(
            F.count(F.lit(1)).alias("rows"), F.count(ERROR).alias("errors")
        )
        counted = totals.collect()[0]
    finally:
        if own_session:
            session.stop()
    return ScoringSummary(
        rows=int(counted["rows"]),
        errors=int(counted["errors"]),
        parts_written=0,
        parts_skipped=0,
        seconds=time.perf_counter() - started,
    )
