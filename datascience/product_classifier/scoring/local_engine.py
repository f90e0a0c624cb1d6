"""Score a catalogue in this process: batches through the model, one part file per chunk.

The input is read ``rows_per_part`` rows at a time (memory stays bounded whatever its size);
each chunk is scored in batches of ``batch_size`` rows and written as one part file, first to a
hidden temporary file, then renamed: a part file exists only when complete. A rerun after an
interruption skips the parts already written. A progress bar shows rows/s on a terminal, and
each part is logged.
"""

import logging
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from product_classifier.scoring.catalogue import count_rows, model_rows, read_chunks
from product_classifier.scoring.columns import output_schema
from product_classifier.scoring.job import (
    SUCCESS_FILE,
    ScoringJob,
    ScoringSummary,
    count_part,
    part_name,
)
from product_classifier.scoring.model_reference import load_pyfunc
from product_classifier.scoring.rows import BatchModel, ScoringSettings, score_rows

logger = logging.getLogger(__name__)


def _write_part(table: pa.Table, path: Path) -> None:
    """Write a part file atomically (hidden temporary file, then rename)."""
    temporary = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, temporary)
    temporary.replace(path)


def score_locally(job: ScoringJob, model: BatchModel | None = None) -> ScoringSummary:
    """Score the catalogue of ``job`` into its output folder (prepared by ``prepare_output``).

    Args:
        job: What to score and where to write it.
        model: The loaded model (default: loaded from ``job.model.load_uri``, only when some
            part remains to be written).

    Returns:
        What the output holds and what this run did.
    """
    started = time.perf_counter()
    output = Path(job.output)
    settings = ScoringSettings(job.top_k, job.model.name, job.model.version)
    schema = output_schema(job.top_k)
    rows = errors = written = skipped = 0
    progress = tqdm(
        total=count_rows(job.catalogue), unit=" rows", unit_scale=True, disable=None, smoothing=0.1
    )
    with progress:
        for index, chunk in enumerate(read_chunks(job.catalogue, job.rows_per_part)):
            path = output / part_name(index)
            if path.is_file():
                part_rows, part_errors = count_part(path)
                rows, errors, skipped = rows + part_rows, errors + part_errors, skipped + 1
                progress.update(part_rows)
                continue
            if model is None:
                logger.info("Loading %s (%s)...", job.model.load_uri, job.model.uri)
                model = load_pyfunc(job.model.load_uri)
            part_started = time.perf_counter()
            candidates = model_rows(chunk, job.catalogue)
            tables = []
            for start in range(0, len(candidates), job.batch_size):
                batch = candidates.iloc[start : start + job.batch_size]
                scored = score_rows(model, batch, settings)
                tables.append(pa.Table.from_pandas(scored, schema=schema, preserve_index=False))
                progress.update(len(batch))
            table = pa.concat_tables(tables) if tables else schema.empty_table()
            _write_part(table, path)
            part_errors = table.num_rows - table.column("error").null_count
            rows, errors, written = rows + table.num_rows, errors + part_errors, written + 1
            seconds = time.perf_counter() - part_started
            logger.info(
                "Wrote %s: %d rows (%d with an error) at %.0f rows/s.",
                path.name,
                table.num_rows,
                part_errors,
                table.num_rows / seconds if seconds > 0 else 0.0,
            )
    if written + skipped == 0:  # an empty catalogue still gives a readable, empty table
        _write_part(schema.empty_table(), output / part_name(0))
        written = 1
    (output / SUCCESS_FILE).touch()
    return ScoringSummary(
        rows=rows,
        errors=errors,
        parts_written=written,
        parts_skipped=skipped,
        seconds=time.perf_counter() - started,
    )
