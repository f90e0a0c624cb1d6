"""The Spark engine on odd input: it answers as the local engine does, and never blocks a rerun.

- a binary Parquet column holding a value that is not UTF-8: the same rows (and row errors) as
  the local engine, not a failed job;
- CSV files the local engine refuses (not UTF-8, a row with a field too many): the same one-line
  refusal, not text silently altered or a field dropped;
- a job that fails (a corrupt Parquet file) or is stopped by Ctrl-C: one line, and nothing left
  at ``--output``, so the same command runs again.

The rows are scored by the session's real text model (:mod:`tests.trained_models`) on a local
Spark session (``local[2]``, no UI) shared by the module.
"""

import os
import signal
import threading
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from product_classifier.data.formats import X_FILE
from scripts import score_catalogue

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

MODEL_URI = "models:/text/1"


def _score(table: Path, output: Path, engine: str, capsys, *extra: object) -> tuple[int, str]:
    argv = ["--model-uri", MODEL_URI, "--input", table, "--output", output, "--engine", engine]
    status = score_catalogue.main([str(arg) for arg in [*argv, *extra]])
    captured = capsys.readouterr()
    return status, captured.out + captured.err


def _leftovers(folder: Path) -> list[str]:
    """Hidden folders the Spark engine wrote into and did not rename (should be none)."""
    return sorted(path.name for path in folder.iterdir() if path.name.startswith("."))


def _error_lines(printed: str) -> list[str]:
    return [line for line in printed.splitlines() if line.startswith("error:")]


def test_a_binary_column_with_bytes_that_are_not_utf8_is_scored_as_locally(
    spark, trained, tmp_path, capsys
) -> None:
    del spark, trained
    table = tmp_path / "binary.parquet"
    pq.write_table(
        pa.table(
            {
                "productid": pa.array([1, 2], pa.int64()),
                "designation": pa.array([b"Livre de cuisine", b"\xff\xfe bad"], pa.binary()),
                "description": pa.array([None, None], pa.string()),
            }
        ),
        table,
    )
    answers = {}
    for engine in ("local", "spark"):
        status, printed = _score(table, tmp_path / engine, engine, capsys)
        assert status == 0, printed
        answers[engine] = pd.read_parquet(tmp_path / engine).set_index("productid").sort_index()
    ours, theirs = answers["spark"], answers["local"]
    assert list(ours.index) == list(theirs.index) == ["1", "2"]
    assert ours["error"].fillna("").tolist() == theirs["error"].fillna("").tolist()
    assert ours.loc[["1"], "error"].isna().all()
    assert ours.loc[["1"], "category_1"].tolist() == theirs.loc[["1"], "category_1"].tolist()
    assert ours.loc[["1"], "probability_1"].tolist() == pytest.approx(
        theirs.loc[["1"], "probability_1"].tolist()
    )


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(
            "productid,designation,description\n1,Café crème,déjà vu\n2,ok,ok\n".encode("latin-1"),
            id="latin1",
        ),
        pytest.param(
            b"productid,designation,description\n101,Livre,recettes\n"
            b"103,Jeu video, console,manette\n104,Piscine,jardin\n",
            id="one-extra-field",
        ),
    ],
)
def test_a_csv_file_the_local_engine_refuses_is_refused_in_the_same_line(
    spark, trained, tmp_path, capsys, content
) -> None:
    del spark, trained
    table = tmp_path / "odd.csv"
    table.write_bytes(content)
    answers = {}
    for engine in ("local", "spark"):
        status, printed = _score(table, tmp_path / f"{engine}-out", engine, capsys)
        assert status == 1, printed
        assert len(_error_lines(printed)) == 1, printed
        assert "Traceback" not in printed
        answers[engine] = _error_lines(printed)[0]
    assert answers["spark"] == answers["local"]
    assert not (tmp_path / "spark-out").exists()
    assert _leftovers(tmp_path) == []
    assert "not a valid CSV file" in answers["spark"]


def _corrupt_parquet(path: Path) -> None:
    """A Parquet file whose footer is sound but whose compressed pages are not."""
    rows = 2000
    pq.write_table(
        pa.table(
            {
                "productid": [str(number) for number in range(rows)],
                "designation": [f"Produit numéro {number} " * 5 for number in range(rows)],
                "description": [f"description {number} " * 5 for number in range(rows)],
            }
        ),
        path,
        compression="gzip",
        use_dictionary=False,
    )
    data = bytearray(path.read_bytes())
    start = 200
    data[start : start + 2000] = bytes(range(256)) * 7 + bytes(208)
    path.write_bytes(bytes(data))


def test_a_failed_job_says_why_in_one_line_and_leaves_nothing(
    spark, trained, tmp_path, capsys
) -> None:
    del spark, trained
    table = tmp_path / "inputs" / "corrupt.parquet"
    table.parent.mkdir()
    _corrupt_parquet(table)
    output = tmp_path / "scores"
    status, printed = _score(table, output, "spark", capsys)
    assert status == 1, printed
    assert len(_error_lines(printed)) == 1, printed
    assert _error_lines(printed)[0].startswith("error: the Spark job failed: "), printed
    assert not output.exists()
    assert _leftovers(tmp_path) == []


def _big_table(trained, path: Path, rows: int) -> None:
    features = pd.read_csv(trained.original / X_FILE, index_col=0, dtype=str)
    repeats = -(-rows // len(features))
    table = pd.concat([features[["designation", "description"]]] * repeats, ignore_index=True)
    table = table.iloc[:rows].assign(productid=[str(number) for number in range(rows)])
    table.to_parquet(path, index=False)


def _interrupt_once_writing(folder: Path, done: threading.Event) -> None:
    """Send this process SIGINT (Ctrl-C) a second after the job starts writing in ``folder``."""
    deadline = time.monotonic() + 300
    while not done.is_set() and time.monotonic() < deadline:
        if _leftovers(folder):
            time.sleep(1.0)
            if not done.is_set():
                os.kill(os.getpid(), signal.SIGINT)
            return
        time.sleep(0.05)


def test_ctrl_c_leaves_nothing_and_the_same_command_runs_again(
    spark, trained, tmp_path, capsys
) -> None:
    del spark
    table = tmp_path / "inputs" / "big.parquet"
    table.parent.mkdir()
    _big_table(trained, table, 6000)
    output = tmp_path / "out" / "scores"
    output.parent.mkdir()
    extra = ("--batch-size", 8, "--partitions", 4)
    done = threading.Event()
    sender = threading.Thread(target=_interrupt_once_writing, args=(output.parent, done))
    sender.start()
    try:
        status, printed = _score(table, output, "spark", capsys, *extra)
    finally:
        done.set()
        sender.join()
    assert status == 130, printed
    assert f"Interrupted: nothing was written to {output}" in printed
    assert "resumes" not in printed
    assert "Traceback" not in printed
    assert not output.exists()
    assert _leftovers(output.parent) == []
    status, printed = _score(table, output, "spark", capsys, *extra)
    assert status == 0, printed
    assert len(pd.read_parquet(output)) == 6000
    assert _leftovers(output.parent) == []
