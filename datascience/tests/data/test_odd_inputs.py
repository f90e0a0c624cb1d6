"""Odd inputs a new user gave the data and training scripts: each is one clear error, or works.

Row indexes that are empty or not integers, an ``image_labels.csv`` with only its header or a bad
value on a known line, seeds beyond what NumPy takes, output folders that cannot be made or
would replace an input, datasets without test rows or with a single category.
"""

import argparse
import logging
from pathlib import Path

import pandas as pd
import pytest
from scripts.cli_support import MAX_SEED, seed, training_parser

from product_classifier.data.creation import create_datasets
from product_classifier.data.merging import merge_original_folders
from product_classifier.data.original import DatasetError
from product_classifier.data.output_folder import (
    OutputExistsError,
    OutputFolderError,
    OutputWouldReplaceError,
    atomic_output_dir,
)
from product_classifier.paths import REPOSITORY_ROOT
from product_classifier.settings import get_platform_settings
from product_classifier.training.errors import TrainingInputError
from product_classifier.training.split_data import load_split_data
from scripts import create_datasets as create_cli
from scripts import make_sample_dataset as sample_cli
from tests.data.test_create_datasets import _options, _write_original

LABELS_HEADER = "image_name,productid,imageid,prdtypecode\n"


def _reindexed(folder: Path, index: list[object]) -> Path:
    """Give X.csv and y.csv of an original folder another row index."""
    for name in ("X.csv", "y.csv"):
        table = pd.read_csv(folder / name, index_col=0)
        table.index = pd.Index(index)
        table.to_csv(folder / name)
    return folder


def test_an_empty_row_index_is_refused(tmp_path) -> None:
    original = _write_original(tmp_path / "original")
    rows = len(pd.read_csv(original / "y.csv", index_col=0))
    _reindexed(original, ["", *range(1, rows)])
    with pytest.raises(DatasetError, match=r"1 row\(s\) have no row index .*data row 1"):
        create_datasets(_options(original, tmp_path / "out", text_only=True))


def test_mixed_needs_integer_row_indexes(tmp_path) -> None:
    original = _write_original(tmp_path / "original")
    rows = len(pd.read_csv(original / "y.csv", index_col=0))
    _reindexed(original, [f"r{row}" for row in range(rows)])
    (original / "image_labels.csv").write_text(LABELS_HEADER)
    with pytest.raises(DatasetError, match=r"row index .* must hold integers, .*; found 'r0'"):
        create_datasets(_options(original, tmp_path / "mixed", mixed=True))
    # The other kinds do not number new rows: any unique index will do.
    create_datasets(_options(original, tmp_path / "text", text_only=True))
    assert (tmp_path / "text" / "X_train.csv").is_file()


def test_image_labels_with_only_a_header_add_no_row(tmp_path) -> None:
    original = _write_original(tmp_path / "original")
    (original / "image_labels.csv").write_text(LABELS_HEADER)
    create_datasets(_options(original, tmp_path / "out", mixed=True))
    parts = ("train", "test")
    written = sum(len(pd.read_csv(tmp_path / "out" / f"y_{part}.csv")) for part in parts)
    assert written == len(pd.read_csv(original / "y.csv"))


def test_image_labels_errors_name_the_files_line(tmp_path) -> None:
    original = _write_original(tmp_path / "original")
    lines = [f"image_{n}_product_{n}.jpg,{n},{n},10\n" for n in range(1, 6)]
    lines[3] = "x.jpg,4,1.5e9,10\n"  # the 4th row: line 5 of the file
    (original / "image_labels.csv").write_text(LABELS_HEADER + "".join(lines))
    with pytest.raises(DatasetError, match=r"1 row\(s\) do not: line 5 \('1.5e9'\)"):
        create_datasets(_options(original, tmp_path / "out", mixed=True))


@pytest.mark.parametrize("value", ["-1", str(MAX_SEED + 1), "2" * 30, "x"])
def test_seeds_outside_numpys_range_are_refused_by_every_command(value, capsys) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        seed(value)
    parsers = [
        create_cli.build_parser(),
        sample_cli.build_parser(),
        training_parser("text", "Train."),
    ]
    for parser, option in zip(parsers, ("--random-state", "--seed", "--seed"), strict=True):
        with pytest.raises(SystemExit) as stopped:
            parser.parse_args(["--input-dir", "x", "--output-dir", "y", option, value])
        assert stopped.value.code == 2
    assert "argument" in capsys.readouterr().err
    assert seed(str(MAX_SEED)) == MAX_SEED


def test_an_output_folder_that_cannot_be_made_is_one_clear_error(tmp_path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    with (
        pytest.raises(OutputExistsError, match="is a file, not a folder"),
        atomic_output_dir(a_file, overwrite=True),
    ):
        pass
    with (
        pytest.raises(OutputFolderError, match=f"File exists: {a_file}|Not a directory"),
        atomic_output_dir(a_file / "sub"),
    ):
        pass
    assert a_file.read_text() == ""


def test_merge_never_replaces_an_input_folder(tmp_path) -> None:
    first = _write_original(tmp_path / "first")
    second = _write_original(tmp_path / "second")
    for output in (first, tmp_path):
        with pytest.raises(OutputWouldReplaceError, match="would replace the input folder"):
            merge_original_folders([first, second], output, overwrite=True)
    assert (first / "X.csv").is_file()
    assert (first / "images").is_dir()


@pytest.mark.parametrize(
    ("output", "what"),
    [
        ("", "the repository"),  # --output-dir "$UNSET"
        (".", "the repository"),
        ("var", "the state folder"),
        ("/", "the repository"),
    ],
)
def test_an_output_folder_never_replaces_the_repository_or_the_state(
    output: str, what: str, capsys: pytest.CaptureFixture[str]
) -> None:
    state = get_platform_settings().STATE_DIR
    before = sorted(path.name for path in REPOSITORY_ROOT.iterdir())
    argv = ["--output-dir", output, "--n-products", "5", "--overwrite"]
    if output == "var":
        argv[1] = str(state)
    assert sample_cli.main(argv) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: The output folder ")
    assert f"would replace {what}" in line
    assert sorted(path.name for path in REPOSITORY_ROOT.iterdir()) == before
    assert (REPOSITORY_ROOT / ".git").exists()


def test_the_home_folder_is_never_replaced(tmp_path: Path) -> None:
    with (
        pytest.raises(OutputWouldReplaceError, match="the home folder"),
        atomic_output_dir(Path.home(), overwrite=True),
    ):
        pass


def _dataset(tmp_path: Path, codes: list[int]) -> Path:
    """A text-only dataset folder made by create_datasets from rows of ``codes``."""
    original = tmp_path / "original"
    original.mkdir()
    pd.DataFrame(
        {
            "designation": [f"Produit {n}" for n in range(len(codes))],
            "description": "",
            "productid": range(100, 100 + len(codes)),
            "imageid": range(200, 200 + len(codes)),
        }
    ).to_csv(original / "X.csv")
    pd.DataFrame({"prdtypecode": codes}).to_csv(original / "y.csv")
    output = tmp_path / "dataset"
    create_datasets(_options(original, output, text_only=True))
    return output


def test_without_a_category_of_two_rows_the_dataset_warns_and_training_says_why(
    tmp_path, caplog
) -> None:
    with caplog.at_level(logging.WARNING):
        dataset = _dataset(tmp_path, [10, 40, 50, 60, 1280])
    assert "No row can go to test" in caplog.text
    assert len(pd.read_csv(dataset / "X_test.csv")) == 0
    with pytest.raises(TrainingInputError, match=r"has no test rows to score a model: .*Add rows"):
        load_split_data(dataset)


def test_training_refuses_a_single_category(tmp_path) -> None:
    dataset = _dataset(tmp_path, [10] * 12)
    with pytest.raises(TrainingInputError, match=r"a single category \(10\)"):
        load_split_data(dataset)


def test_repeated_product_ids_and_conflicting_image_labels_are_said(tmp_path, caplog) -> None:
    original = _write_original(tmp_path / "original")
    features = pd.read_csv(original / "X.csv", index_col=0)
    features["productid"] = features["productid"].where(features.index != 1, 1000)
    features.to_csv(original / "X.csv")
    lines = ["a.jpg,9001,7001,10\n", "b.jpg,9001,7001,40\n", "c.jpg,9002,7002,10\n"]
    (original / "image_labels.csv").write_text(LABELS_HEADER + "".join(lines))
    with caplog.at_level(logging.WARNING):
        create_datasets(_options(original, tmp_path / "out", mixed=True))
    assert "X.csv lists 1 product id(s) on two rows or more (1000)" in caplog.text
    assert "gives 1 image(s) two categories or more (image 7001 of product 9001)" in caplog.text


def test_ctrl_c_is_one_line_and_exit_status_130(tmp_path, monkeypatch, capsys) -> None:
    def interrupted(options: object) -> None:
        del options
        raise KeyboardInterrupt

    monkeypatch.setattr(create_cli, "create_datasets", interrupted)
    original = _write_original(tmp_path / "original")
    status = create_cli.main(["--input-dir", str(original), "--output-dir", str(tmp_path / "o")])
    assert status == 130
    assert capsys.readouterr().err.strip() == (
        "Interrupted: the output folder was left as it was (nothing half-written)."
    )
