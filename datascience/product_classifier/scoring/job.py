"""What a scoring job is asked to do, its output folder, and the record that makes it resumable.

The output is a folder of Parquet part files (``part-00000.parquet``...), readable as one table
by pandas, pyarrow, Spark or DuckDB. Beside them, ``_scoring.json`` records the job (input,
model version, top-k, rows per part), so that a rerun continues the same job and refuses a
different one, and ``_SUCCESS`` marks a complete output. Names starting with ``_`` or ``.`` are
ignored by Parquet readers.

While a job runs, ``_<name>.lock`` beside a local output folder ``<name>`` is locked by it
(:func:`lock_output`): a second job into the same folder, of either engine, is refused at once
instead of interleaving its parts with the first one's. The lock file is beside the folder, not
in it, so that it is never read as a part nor copied into a Spark output.
"""

import json
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

import pyarrow.parquet as pq

from product_classifier.data.output_folder import describe_os_error
from product_classifier.output_lock import exclusive_output
from product_classifier.scoring.catalogue import Catalogue
from product_classifier.scoring.columns import ERROR
from product_classifier.scoring.images import is_uri
from product_classifier.scoring.model_reference import ModelReference

MANIFEST_FILE: Final = "_scoring.json"
SUCCESS_FILE: Final = "_SUCCESS"


class OutputConflictError(Exception):
    """The output folder holds something else than this job's parts (a message for a person)."""


@dataclass(frozen=True)
class ScoringJob:
    """One catalogue scored by one model version.

    Attributes:
        catalogue: The input.
        output: The output folder (local path or, with Spark, a URI).
        model: The model, pinned to a version.
        top_k: Categories kept per row.
        batch_size: Rows per model call.
        rows_per_part: Rows per part file (local engine; the unit of resumption).
    """

    catalogue: Catalogue
    output: str
    model: ModelReference
    top_k: int
    batch_size: int
    rows_per_part: int


@dataclass(frozen=True)
class ScoringSummary:
    """What a finished job wrote.

    Attributes:
        rows: Output rows (as many as input rows).
        errors: Rows written with an error.
        parts_written: Part files written by this run.
        parts_skipped: Part files found from an earlier run and kept.
        seconds: Wall time of this run.
    """

    rows: int
    errors: int
    parts_written: int
    parts_skipped: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        """Output rows per second of this run (rows of kept parts included)."""
        return self.rows / self.seconds if self.seconds > 0 else 0.0


def part_name(index: int) -> str:
    """File name of the part holding input rows ``[index * rows_per_part, ...)``."""
    return f"part-{index:05d}.parquet"


def _input_identity(catalogue: Catalogue) -> dict[str, Any]:
    """The input's location, and its size and modification time when it is a local file."""
    identity: dict[str, Any] = {"location": catalogue.location, "format": str(catalogue.format)}
    table = Path(catalogue.table_location)
    if table.is_file():
        stat = table.stat()
        identity.update(size=stat.st_size, modified_ns=stat.st_mtime_ns)
    return identity


def manifest(job: ScoringJob) -> dict[str, Any]:
    """Return the record of a job, as written to ``_scoring.json``."""
    return {
        "input": _input_identity(job.catalogue),
        "text_only": job.catalogue.text_only,
        "model": asdict(job.model),
        "top_k": job.top_k,
        "rows_per_part": job.rows_per_part,
    }


def _differences(recorded: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    wanted_model = {**wanted["model"], "load_uri": None, "name": None, "version": None}
    recorded_model = {**recorded.get("model", {}), "load_uri": None, "name": None, "version": None}
    found = [
        key
        for key in ("input", "text_only", "top_k", "rows_per_part")
        if recorded.get(key) != wanted[key]
    ]
    if recorded_model != wanted_model:
        found.append("model")
    return found


def lock_file(output: str) -> Path:
    """The lock file of a local output folder: ``_<name>.lock`` beside it."""
    folder = Path(output).resolve()  # one lock whatever the spelling (symbolic links...)
    return folder.parent / f"_{folder.name}.lock"


def lock_output(output: str) -> AbstractContextManager[None]:
    """Lock a local output folder for a whole job (a URI, ``s3a://``..., cannot be locked).

    Raises:
        OutputBusyError: Another job is using the folder (when entered).
        OutputLockError: The lock file cannot be created beside the folder (when entered).
    """
    if is_uri(output):
        return nullcontext()
    return exclusive_output(lock_file(output), folder=output, job="scoring job", option="--output")


def prepare_output(job: ScoringJob) -> ScoringJob:
    """Start or continue a job in its output folder.

    A folder holding this job's record continues it, with the model version recorded when it
    started (an alias that moved since does not mix two versions in one output). A record
    left by a job that wrote nothing (e.g. its model could not be loaded) is replaced.

    Returns:
        The job to run (its model pinned to the recorded version when continuing).

    Raises:
        OutputConflictError: The folder holds another job's output, or files that are not ours.
    """
    output = Path(job.output)
    record = output / MANIFEST_FILE
    if record.is_file() and not any(output.glob("part-*")):  # a job that wrote nothing
        record.unlink()
    if record.is_file():
        recorded = json.loads(record.read_text(encoding="utf-8"))
        differences = _differences(recorded, manifest(job))
        if differences:
            raise OutputConflictError(
                f"{output} holds the output of another scoring job (different "
                f"{', '.join(differences)}): choose another --output or delete it."
            )
        return ScoringJob(
            catalogue=job.catalogue,
            output=job.output,
            model=ModelReference(**recorded["model"]),
            top_k=job.top_k,
            batch_size=job.batch_size,
            rows_per_part=job.rows_per_part,
        )
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise OutputConflictError(
            f"{output} exists and is not the output of a scoring job: choose another --output."
        )
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as error:  # a file on the way, no such place, no permission
        raise OutputConflictError(
            f"Cannot create {output}: {describe_os_error(error)}; choose another --output."
        ) from error
    record.write_text(json.dumps(manifest(job), indent=2) + "\n", encoding="utf-8")
    return job


def count_part(path: Path) -> tuple[int, int]:
    """Return the (rows, error rows) of a written part file."""
    errors = pq.read_table(path, columns=[ERROR]).column(ERROR)
    return len(errors), len(errors) - errors.null_count
