"""Score a catalogue on Apache Spark: Spark reads the input, a pandas UDF runs the model.

The model is downloaded once on the driver and shipped to the executors with
``SparkContext.addFile``; each Python worker loads it once with ``mlflow.pyfunc.load_model``
(its public pyfunc interface, whatever runtime the model uses inside) and scores the rows of
its partitions with :func:`product_classifier.scoring.rows.score_rows`, in Arrow batches of
``batch_size`` rows (``mapInPandas``): the same code and row rules as the local engine. This is
what ``mlflow.pyfunc.spark_udf`` does, except that ``spark_udf`` can return neither our ranked
categories (an array of structs) nor an error per row: a bad row would fail its whole task.

Spark reads CSV files with the local engine's rules: a local CSV file is first read through
once by the local engine's reader (:func:`product_classifier.data.original.read_csv_chunks`), so
a file that engine refuses (not UTF-8, a row with too many fields...) is refused here with the
same one-line message, instead of being read with its text altered or a field dropped; remote CSV
files are read in ``FAILFAST`` mode, and a row of theirs holding U+FFFD (Spark's stand-in for
bytes that are not UTF-8) is that row's error. Binary Parquet columns reach :func:`model_rows`
as bytes, as the local engine gives them, so both engines turn them into the same text.

The output is written into a hidden temporary folder next to ``--output`` and renamed to it
once complete (local outputs): a failed or interrupted job leaves nothing that blocks the same
command run again.

Images are read on the executors from the paths or URIs of the rows, so they must be
reachable there (local paths in ``local[*]`` mode, ``s3a://`` or ``hdfs://`` URIs on a cluster,
with the matching fsspec implementation installed on the executors).
"""

import logging
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pandas as pd

from product_classifier.data.original import DatasetError, read_csv_chunks
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
CSV_OPTIONS: Final = {"header": "true", "multiLine": "true", "escape": '"', "mode": "FAILFAST"}
"""Spark's CSV reader set to read what pandas writes and reads (quoted multi-line fields), and to
fail on a malformed row rather than drop or pad its fields."""
QUIET_LOG_LEVEL: Final = "FATAL"
"""Spark's log level while a session started here scores (failures are raised in one line)."""
CANCEL_WAIT_SECONDS: Final = 30.0
"""How long a job cancelled in a session left running may take to end before its files go."""
CSV_CHECK_ROWS: Final = 50_000
"""Rows per chunk when a local CSV file is checked with the local engine's reader."""
_EXCEPTION_LINE: Final = re.compile(
    r"^(?::\s*|Caused by:\s*)?(?:[\w$]+\.)*(\w*(?:Error|Exception)\b.*)$"
)
"""A line naming an exception (Java's ``Caused by: a.b.CException: ...`` or Python's)."""


class SparkUnavailableError(RuntimeError):
    """Spark could not start (no Java, no pyspark...): a message for a person."""


class SparkJobError(RuntimeError):
    """The Spark job failed (a message for a person: one line, not the JVM's stack)."""


def _first_cause(error: BaseException) -> str:
    """The most telling line of a Spark or Python worker error (its last ``...Error: ...``)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    causes = [match.group(1) for line in lines if (match := _EXCEPTION_LINE.match(line))]
    text = causes[-1] if causes else (lines[0] if lines else repr(error))
    return text if len(text) <= 300 else f"{text[:297]}..."


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
    logging.getLogger("py4j").setLevel(logging.WARNING)  # its INFO lines: every connection
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
    from pyspark.sql.types import BinaryType  # noqa: PLC0415

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
    binary = {item.name for item in frame.schema.fields if isinstance(item.dataType, BinaryType)}
    # Binary columns go to model_rows as bytes (as the local engine reads them): a cast to
    # string would hand Arrow invalid UTF-8 and fail the whole job on one bad value.
    return frame.select(
        *[
            F.col(name) if name in binary else F.col(name).cast("string").alias(name)
            for name in catalogue.text_columns
        ]
    ), catalogue


def check_csv(catalogue: Catalogue) -> None:
    """Read a local CSV catalogue once with the local engine's reader (a remote one: skipped).

    Spark's reader replaces bytes that are not UTF-8 with U+FFFD and has no mode refusing them;
    the local engine refuses such files. Reading the file with that engine's reader gives both
    engines the same answer: the same message for the same file.

    Raises:
        DatasetError: The local engine would refuse the file.
    """
    location = catalogue.table_location
    if is_uri(location):
        return
    for _ in read_csv_chunks(
        Path(location),
        catalogue.text_columns,
        CSV_CHECK_ROWS,
        indexed=catalogue.format is CatalogueFormat.ORIGINAL,
    ):
        pass


REPLACEMENT_CHARACTER: Final = "\ufffd"
"""What Spark's CSV reader puts in place of bytes that are not UTF-8."""


def refuse_replaced_text(raw: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """Make each row whose text holds U+FFFD an error, as the local engine refuses such bytes.

    Spark reads a remote CSV file's bytes that are not UTF-8 as U+FFFD and has no mode refusing
    them; the file cannot be read through on the driver first, as a local one is
    (:func:`check_csv`). A row holding U+FFFD is answered with an error instead of a category
    predicted from altered text (real catalogue text holds it only where it was already lost).

    Args:
        raw: The rows as Spark read them, in order.
        rows: Their :func:`~product_classifier.scoring.catalogue.model_rows`, edited in place.

    Returns:
        ``rows``.
    """
    for column in raw.columns:
        replaced = raw[column].astype("string").str.contains(REPLACEMENT_CHARACTER, regex=False)
        hit = replaced.fillna(False).to_numpy(dtype=bool) & rows[ERROR].isna().to_numpy()
        rows.loc[hit, ERROR] = f"{column} is not text in UTF-8 (U+FFFD as Spark read it)"
    return rows


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
    refuse_replaced_text: bool = False
    """Whether a row holding U+FFFD is an error (remote CSV: :func:`refuse_replaced_text`)."""

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
            if self.refuse_replaced_text:
                refuse_replaced_text(raw, rows)
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


def interrupted_spark_output(output: str) -> str:
    """What an interrupted Spark job left at ``output``, and how to go on (for a person)."""
    if is_uri(output):
        return (
            f"the Spark engine does not resume: delete {output} if it exists, then run the "
            "command again"
        )
    return (
        f"nothing was written to {output} (the Spark engine does not resume); run the command "
        "again to start over"
    )


def _staging_folder(output: str) -> str:
    """Where Spark writes before the rename: a hidden folder next to a local output."""
    if is_uri(output):
        return output
    target = Path(output)
    return str(target.parent / f".{target.name}.spark-{uuid.uuid4().hex[:12]}")


STAGING_QUIET_SECONDS: Final = 3.0
"""How long the deleted temporary folder must stay absent: a task of a cancelled job that was
still finishing writes its file (and so the folder) again when it ends."""


def _remove_staging(staging: str, output: str) -> None:
    """Delete what a failed or interrupted job wrote (killed tasks may still be finishing).

    The folder is deleted again whenever it reappears, until it stays absent for
    :data:`STAGING_QUIET_SECONDS` (at most :data:`CANCEL_WAIT_SECONDS` in all).
    """
    if staging == output:
        return
    deadline = time.monotonic() + CANCEL_WAIT_SECONDS
    absent_since: float | None = None
    while time.monotonic() < deadline:
        if Path(staging).exists():
            shutil.rmtree(staging, ignore_errors=True)
            absent_since = None
        elif absent_since is None:
            absent_since = time.monotonic()
        elif time.monotonic() - absent_since >= STAGING_QUIET_SECONDS:
            return
        time.sleep(0.2)
    if Path(staging).exists():
        logger.warning("Could not delete the temporary folder %s: delete it.", staging)


_PY4J_INTERRUPT_LOGS: Final = (
    "KeyboardInterrupt while sending command",
    "Exception while sending command",
)
"""What py4j logs (with a traceback, on the root logger) when Ctrl-C stops a call to the JVM."""


def _not_py4j_interrupt_log(record: logging.LogRecord) -> bool:
    return not str(record.msg).startswith(_PY4J_INTERRUPT_LOGS)


@contextmanager
def _plain_ctrl_c() -> Iterator[list[bool]]:
    """While a job runs, make Ctrl-C raise :class:`KeyboardInterrupt` and nothing else.

    pyspark's own SIGINT handler calls the JVM (``cancelAllJobs``) from inside the handler while
    the main thread waits for the JVM on the same py4j connection: py4j then logs tracebacks of
    that reentrant call. Here the job is cancelled after the interrupt, by the caller.

    Yields:
        A list that holds ``True`` once Ctrl-C was pressed (py4j may turn the interrupt into
        one of its own errors).
    """
    pressed: list[bool] = []
    if threading.current_thread() is not threading.main_thread():
        yield pressed
        return

    def interrupt(number: int, frame: object) -> None:
        del number, frame
        pressed.append(True)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, interrupt)
    root = logging.getLogger()
    root.addFilter(_not_py4j_interrupt_log)
    try:
        yield pressed
    finally:
        signal.signal(signal.SIGINT, previous)
        root.removeFilter(_not_py4j_interrupt_log)


def _write(scored: "DataFrame", staging: str, output: str, interrupted: list[bool]) -> None:
    """Write the scores into ``staging``, then rename it to ``output``.

    Args:
        scored: The scores.
        staging: Where Spark writes them.
        output: Where they end up.
        interrupted: Holds ``True`` once Ctrl-C was pressed (see :func:`_plain_ctrl_c`).

    Raises:
        SparkJobError: The job failed.
        OutputConflictError: ``output`` appeared while the job ran.
    """
    from py4j.protocol import Py4JError  # type: ignore[import-untyped]  # noqa: PLC0415
    from pyspark.errors import PySparkException  # noqa: PLC0415

    if staging != output:
        Path(staging).parent.mkdir(parents=True, exist_ok=True)
    try:
        scored.write.mode("errorifexists").parquet(staging)
    except (Py4JError, PySparkException) as error:
        if interrupted:
            raise KeyboardInterrupt from None
        raise SparkJobError(f"the Spark job failed: {_first_cause(error)}") from error
    if staging != output:
        _check_output_is_free(output)
        Path(staging).rename(output)


def _stop_quietly(session: "SparkSession") -> None:
    """Stop a session (again: a no-op), without the JVM logging the tasks it kills."""
    try:
        session.sparkContext.setLogLevel("OFF")
        session.stop()
    except Exception:
        logger.debug("Spark session already stopped", exc_info=True)


def _cancel_jobs(session: "SparkSession") -> None:
    """Cancel the jobs of a session left running (a session given by the caller).

    Waits (up to :data:`CANCEL_WAIT_SECONDS`) for them to end: their tasks write no more files.
    """
    try:
        context = session.sparkContext
        context.cancelAllJobs()
        deadline = time.monotonic() + CANCEL_WAIT_SECONDS
        while context.statusTracker().getActiveJobsIds() and time.monotonic() < deadline:
            time.sleep(0.2)
    except Exception:
        logger.debug("Could not cancel the Spark jobs", exc_info=True)


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
        SparkJobError: The Spark job failed (nothing is left at ``job.output``, when local).
        DatasetError: The input lacks a column, or is a CSV file the local engine refuses.
        OutputConflictError: The output exists.
    """
    from pyspark.sql import functions as F  # noqa: N812, PLC0415

    _check_output_is_free(job.output)
    started = time.perf_counter()
    if job.catalogue.format is not CatalogueFormat.PARQUET:
        check_csv(job.catalogue)  # before Spark starts: the local engine's answer, in one line
    from pyspark.sql import SparkSession  # noqa: PLC0415

    # A session given, or already running in this process, is left running for its owner.
    own_session = spark is None and SparkSession.getActiveSession() is None
    session = spark or build_session(options, job.batch_size)
    if own_session:
        # A failed task is logged by the driver with its JVM stack (hundreds of lines): the
        # error raised here names its cause in one line instead.
        session.sparkContext.setLogLevel(QUIET_LOG_LEVEL)
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
                refuse_replaced_text=catalogue.format is not CatalogueFormat.PARQUET
                and is_uri(catalogue.table_location),
            )
            logger.info(
                "Scoring %s with %s on Spark (%s, %d partitions)...",
                catalogue.location,
                job.model.load_uri,
                session.sparkContext.master,
                partitions,
            )
            scored = raw.repartition(partitions).mapInPandas(scorer, schema=spark_ddl(job.top_k))
            staging = _staging_folder(job.output)
            with _plain_ctrl_c() as interrupted:
                try:
                    _write(scored, staging, job.output, interrupted)
                except BaseException:  # Ctrl-C included: leave nothing behind
                    # Stop the tasks still writing before deleting their files.
                    if own_session:
                        _stop_quietly(session)
                    else:
                        _cancel_jobs(session)
                    _remove_staging(staging, job.output)
                    raise
        totals = session.read.parquet(job.output).agg(
            F.count(F.lit(1)).alias("rows"), F.count(ERROR).alias("errors")
        )
        counted = totals.collect()[0]
    finally:
        if own_session:
            _stop_quietly(session)
    return ScoringSummary(
        rows=int(counted["rows"]),
        errors=int(counted["errors"]),
        parts_written=0,
        parts_skipped=0,
        seconds=time.perf_counter() - started,
    )
