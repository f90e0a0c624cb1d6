"""Reading a catalogue table: odd files are one clear error, odd cells keep their row.

No model is needed: these are the reading and row rules both engines share
(:mod:`product_classifier.scoring.catalogue`), and the checks ``score_catalogue`` makes before
it writes anything.
"""

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from product_classifier.data.original import DatasetError
from product_classifier.scoring.catalogue import (
    describe_original,
    describe_table,
    model_rows,
    read_chunks,
)
from scripts import score_catalogue


@pytest.mark.parametrize(
    "lines",
    [
        ["1,a,x,extra1,extra2", "2,b", "3,c,z"],  # the first data line longer than the header
        ["1,a,x,extra"],
        ["1,a,x", "2,b,y,extra"],
    ],
)
def test_a_line_longer_than_the_header_is_refused_not_shifted(tmp_path, lines):
    path = tmp_path / "catalogue.csv"
    path.write_text("productid,designation,description\n" + "\n".join(lines) + "\n")
    with pytest.raises(DatasetError, match="not a valid CSV file"):
        list(read_chunks(describe_table(str(path)), 1))


def test_short_lines_keep_their_columns(tmp_path):
    path = tmp_path / "catalogue.csv"
    path.write_text("productid,designation,description\n1,a,x\n2,b\n3,c,z\n")
    (chunk,) = read_chunks(describe_table(str(path)), 10)
    assert chunk["productid"].tolist() == ["1", "2", "3"]
    assert chunk["description"].tolist() == ["x", "", "z"]


@pytest.mark.parametrize("content", [b"", b"PAR1", b"not parquet at all"])
def test_a_file_that_is_not_parquet_is_one_error(tmp_path, content):
    path = tmp_path / "catalogue.parquet"
    path.write_bytes(content)
    with pytest.raises(DatasetError, match="is not a Parquet file"):
        describe_table(str(path))


def _rows(tmp_path: Path, table: pa.Table) -> pd.DataFrame:
    path = tmp_path / "catalogue.parquet"
    pq.write_table(table, path)
    catalogue = describe_table(str(path))
    return model_rows(pd.concat(list(read_chunks(catalogue, 100))), catalogue)


def test_integer_ids_turned_float_by_a_missing_one_keep_their_writing(tmp_path):
    table = pa.table(
        {"productid": [1.0, None, 3.0, 2.5], "designation": list("abcd"), "description": [""] * 4}
    )
    rows = _rows(tmp_path, table)
    assert rows["productid"].tolist() == ["1", "", "3", "2.5"]
    assert rows["error"].tolist() == [None, "missing productid", None, None]


def test_binary_text_is_decoded_and_bytes_that_are_not_utf8_fail_their_row_alone(tmp_path):
    table = pa.table(
        {
            "productid": pa.array([1, 2, 3]),
            "designation": pa.array(["Café".encode(), b"Caf\xe9", b"Lampe"], pa.binary()),
            "description": pa.array(["", "", ""]),
        }
    )
    rows = _rows(tmp_path, table)
    assert rows["designation"].tolist() == ["Café", "", "Lampe"]
    assert rows["error"].tolist() == [None, "designation is not text in UTF-8", None]


def test_an_unknown_model_runtime_is_refused_before_anything_is_written(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("MODEL_RUNTIME", "bogus")
    source = tmp_path / "catalogue.csv"
    source.write_text("productid,designation\n1,a\n")
    output = tmp_path / "scores"
    status = score_catalogue.main(
        ["--model-uri", "models:/text/1", "--input", str(source), "--output", str(output)]
    )
    captured = capsys.readouterr()
    assert status == 1
    assert captured.err.strip().splitlines() == [
        "error: MODEL_RUNTIME='bogus' is not one of auto, onnx, keras."
    ]
    assert not output.exists()


def test_a_table_without_a_needed_column_is_told_the_columns_it_needs(tmp_path):
    table = tmp_path / "catalogue.csv"
    table.write_text("designation,description\nStylo,\n", encoding="utf-8")
    with pytest.raises(DatasetError) as refused:
        describe_table(str(table))
    message = str(refused.value)
    assert "Expected the columns productid, designation, description" in message
    assert "index column" not in message  # a table has none, unlike the challenge files


@pytest.mark.parametrize(
    ("present", "text_only", "hint"),
    [("X.csv", False, True), ("images", False, False), ("images", True, False)],
)
def test_the_text_only_hint_is_given_only_where_it_helps(tmp_path, present, text_only, hint):
    folder = tmp_path / "original"
    folder.mkdir()
    if present == "X.csv":
        (folder / "X.csv").write_text(",designation,description,productid,imageid\n")
    else:
        (folder / "images").mkdir()
    with pytest.raises(DatasetError) as refused:
        describe_original(str(folder), text_only=text_only)
    assert ("give --text-only" in str(refused.value)) is hint
