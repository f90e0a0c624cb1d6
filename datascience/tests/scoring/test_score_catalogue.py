"""Catalogue scoring: the CLI, both engines, bad rows, resumption, and both engines agreeing.

The catalogues are built from the session's generated sample (300 products with their 500x500
images) and scored by the session's real fusion model (:mod:`tests.trained_models`). The Spark
tests share one local Spark session (``local[2]``, no UI); they skip with the reason when Spark
cannot start, except with ``CI=true``, where that fails them.
"""

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import mlflow.pyfunc
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from product_classifier.categories import CATEGORY_CODES
from product_classifier.data.formats import IMAGES_DIR, X_FILE, image_file_name
from product_classifier.data.original import read_features
from product_classifier.paths import REAL_SAMPLE_DIR
from product_classifier.scoring.catalogue import (
    NO_INPUT,
    describe_original,
    model_rows,
    read_chunks,
)
from product_classifier.scoring.columns import ERROR, category_column, probability_column
from product_classifier.scoring.job import MANIFEST_FILE, SUCCESS_FILE, part_name
from scripts import score_catalogue

# The first test here trains the session's models (tests.trained_models): minutes on a busy machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

ALIAS = "catalogue"
TOP_K = 3


@dataclass(frozen=True)
class Catalogues:
    """The generated catalogues and what their bad rows are."""

    original: Path
    table: Path
    original_errors: dict[str, str]
    """Expected error (a fragment) by productid, for the original folder."""
    table_errors: dict[str, str]


@pytest.fixture(scope="module")
def fusion_version(trained) -> str:
    """The fusion version the alias ``catalogue`` points at."""
    client = MlflowClient()
    version = max(int(item.version) for item in client.search_model_versions("name = 'fusion'"))
    client.set_registered_model_alias("fusion", ALIAS, str(version))
    return str(version)


def _original_catalogue(trained, folder: Path) -> tuple[Path, dict[str, str]]:
    """A copy of the generated original folder, with bad rows."""
    shutil.copytree(trained.original, folder, ignore=shutil.ignore_patterns("y.csv"))
    features = pd.read_csv(folder / X_FILE, index_col=0, dtype=str, keep_default_na=False)
    ids = features["productid"].tolist()
    images = folder / IMAGES_DIR
    # 0: a corrupt image; 1: its image file is missing; 2: no text but a good image (scored);
    # 3: an imageid that is not a number.
    image_ids = features["imageid"].tolist()
    corrupt = images / image_file_name(int(image_ids[0]), int(ids[0]))
    corrupt.write_bytes(b"this is not a JPEG")
    (images / image_file_name(int(image_ids[1]), int(ids[1]))).unlink()
    features.loc[features.index[2], ["designation", "description"]] = ""
    features.loc[features.index[3], "imageid"] = "abc"
    features.to_csv(folder / X_FILE)
    return folder, {
        ids[0]: "Unreadable image",
        ids[1]: "image not found",
        ids[3]: "invalid imageid",
    }


def _table_catalogue(trained, folder: Path) -> tuple[Path, dict[str, str]]:
    """A Parquet table: text-only, image-only and text+image rows, relative and absolute
    image paths, and bad rows."""
    folder.mkdir()
    shutil.copytree(trained.original / IMAGES_DIR, folder / "pictures")
    features = read_features(trained.original / X_FILE)
    names = [
        image_file_name(imageid, productid)
        for imageid, productid in zip(features["imageid"], features["productid"], strict=True)
    ]
    rows = []
    for number, (designation, description, name) in enumerate(
        zip(features["designation"], features["description"], names, strict=True)
    ):
        kind = number % 4
        image = {
            0: "",
            1: f"pictures/{name}",
            2: str(folder / "pictures" / name),
            3: (folder / "pictures" / name).as_uri(),
        }[kind]
        text = kind != 3 or number % 8 != 3  # some image-only rows
        rows.append(
            {
                "productid": f"p{number:04d}",
                "designation": designation if text else "",
                "description": description if text else None,
                "image_path": image,
            }
        )
    (folder / "pictures" / "broken.jpg").write_bytes(b"\x89PNG broken")
    bad = {
        "bad-empty": ("", "", "", NO_INPUT),
        "bad-missing-image": ("Lampe", "", str(folder / "nope.jpg"), "image not found"),
        "bad-corrupt": ("Lampe", "", "pictures/broken.jpg", "Unreadable image"),
        "": ("Sans identifiant", "", "", "missing productid"),
    }
    for product_id, (designation, description, image, _) in bad.items():
        rows.insert(
            len(rows) // 2,
            {
                "productid": product_id,
                "designation": designation,
                "description": description,
                "image_path": image,
            },
        )
    table = folder / "catalogue.parquet"
    pd.DataFrame(rows).to_parquet(table, index=False)
    return table, {product_id: error for product_id, (*_, error) in bad.items()}


@pytest.fixture(scope="module")
def catalogues(trained, tmp_path_factory) -> Catalogues:
    root = tmp_path_factory.mktemp("catalogues")
    original, original_errors = _original_catalogue(trained, root / "original")
    table, table_errors = _table_catalogue(trained, root / "table")
    return Catalogues(original, table, original_errors, table_errors)


def _score(*argv: object, capsys=None) -> tuple[int, str]:
    status = score_catalogue.main([str(arg) for arg in argv])
    output = ""
    if capsys is not None:
        captured = capsys.readouterr()
        output = captured.out + captured.err
    return status, output


def _score_table(catalogues: Catalogues, output: Path, *extra: object, capsys=None):
    """Score the Parquet catalogue locally: batches of 50 rows, parts of 64 rows."""
    return _score(
        "--model-uri",
        f"models:/fusion@{ALIAS}",
        "--input",
        catalogues.table,
        "--output",
        output,
        "--batch-size",
        50,
        "--rows-per-part",
        64,
        *extra,
        capsys=capsys,
    )


def _read(folder: Path) -> pd.DataFrame:
    return pd.read_parquet(folder).set_index("productid").sort_index()


@pytest.fixture(scope="module")
def local_original(catalogues, fusion_version, tmp_path_factory):
    output = tmp_path_factory.mktemp("local-original") / "scores.parquet"
    status, _ = _score(
        "--model-uri",
        f"models:/fusion@{ALIAS}",
        "--input-dir",
        catalogues.original,
        "--output",
        output,
        "--batch-size",
        64,
    )
    assert status == 0
    return output


@pytest.fixture(scope="module")
def local_table(catalogues, fusion_version, tmp_path_factory):
    output = tmp_path_factory.mktemp("local-table") / "scores.parquet"
    status, _ = _score_table(catalogues, output)
    assert status == 0
    return output


def _check_scored_rows(scores: pd.DataFrame, expected_errors: dict[str, str], version: str):
    failed = scores[scores[ERROR].notna()]
    assert set(failed.index) == set(expected_errors)
    for product_id, fragment in expected_errors.items():
        assert fragment in str(failed.loc[product_id, ERROR])
        assert failed[category_column(1)].isna().loc[product_id]
    scored = scores[scores[ERROR].isna()]
    assert len(scored) == len(scores) - len(expected_errors)
    for rank in range(1, TOP_K + 1):
        assert scored[category_column(rank)].isin(CATEGORY_CODES).all()
    probabilities = scored[[probability_column(rank) for rank in range(1, TOP_K + 1)]].to_numpy()
    assert (np.diff(probabilities, axis=1) <= 0).all(), "probabilities must be highest first"
    assert ((probabilities > 0) & (probabilities <= 100)).all()
    assert (scores["model_name"] == "fusion").all()
    assert (scores["model_version"] == version).all()
    now = datetime.now(UTC)
    assert scores["scored_at"].between(now - timedelta(hours=1), now).all()


def test_original_folder_is_scored_row_for_row_with_bad_rows_kept(
    catalogues, local_original, fusion_version
) -> None:
    scores = _read(local_original)
    features = pd.read_csv(catalogues.original / X_FILE, index_col=0, dtype=str)
    assert sorted(scores.index) == sorted(features["productid"])
    _check_scored_rows(scores, catalogues.original_errors, fusion_version)
    assert (local_original / SUCCESS_FILE).is_file()


def test_scores_are_the_model_answers(catalogues, local_original, fusion_version) -> None:
    scores = _read(local_original)
    features = pd.read_csv(catalogues.original / X_FILE, index_col=0, dtype=str)
    sample = features.iloc[4:12]
    model = mlflow.pyfunc.load_model(f"models:/fusion/{fusion_version}")
    predictions = model.predict(
        pd.DataFrame(
            {
                "designation": sample["designation"].fillna(""),
                "description": sample["description"].fillna(""),
                "image_path": [
                    str(catalogues.original / IMAGES_DIR / image_file_name(int(i), int(p)))
                    for i, p in zip(sample["imageid"], sample["productid"], strict=True)
                ],
            }
        )
    )
    for product_id, prediction in zip(sample["productid"], predictions, strict=True):
        row = scores.loc[product_id]
        for rank in range(1, TOP_K + 1):
            assert row[category_column(rank)] == prediction[rank - 1]["category_id"]
            # 1e-5 as a probability, 1e-3 in percent: a batch of 8 rounds unlike one of 64.
            assert row[probability_column(rank)] == pytest.approx(
                prediction[rank - 1]["probabilities"], abs=1e-3
            )


def test_table_with_mixed_rows_and_bad_rows(catalogues, local_table, fusion_version) -> None:
    scores = _read(local_table)
    table = pd.read_parquet(catalogues.table)
    assert sorted(scores.index) == sorted(table["productid"])
    _check_scored_rows(scores, catalogues.table_errors, fusion_version)
    parts = sorted(path.name for path in local_table.glob("part-*.parquet"))
    assert parts == [part_name(index) for index in range(-(-len(table) // 64))]


def test_an_interrupted_run_resumes_with_the_parts_already_written(
    catalogues, local_table, tmp_path, capsys
) -> None:
    output = tmp_path / "scores.parquet"
    shutil.copytree(local_table, output)
    kept = {path.name: path.stat().st_mtime_ns for path in output.glob("part-*.parquet")}
    # As an interruption leaves it: no _SUCCESS, a missing part, a half-written temporary file.
    (output / SUCCESS_FILE).unlink()
    (output / part_name(2)).unlink()
    (output / f".{part_name(2)}.tmp").write_bytes(b"half")
    status, printed = _score_table(catalogues, output, capsys=capsys)
    assert status == 0, printed
    assert f"{len(kept) - 1} part(s) kept from an earlier run" in printed
    for name, modified in kept.items():
        if name != part_name(2):
            assert (output / name).stat().st_mtime_ns == modified, f"{name} was rewritten"
    assert not (output / f".{part_name(2)}.tmp").exists()
    assert (output / SUCCESS_FILE).is_file()
    again, before = _read(output), _read(local_table)
    pd.testing.assert_frame_equal(again.drop(columns="scored_at"), before.drop(columns="scored_at"))


def test_another_job_in_the_same_output_is_refused_in_one_line(
    catalogues, local_table, capsys
) -> None:
    status, printed = _score_table(catalogues, local_table, "--top-k", 5, capsys=capsys)
    assert status == 1
    assert "holds the output of another scoring job (different top_k)" in printed
    assert len(printed.strip().splitlines()) == 1
    assert (local_table / MANIFEST_FILE).is_file()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--input-dir", "{tmp}/nowhere"], "does not exist or is not a folder"),
        (["--input", "{tmp}/table.txt"], "Unknown input format"),
        (["--input", "{tmp}/columns.csv"], "missing column(s) designation, description"),
        (["--input-dir", "{original}", "--model-uri", "models:/fusion@nope"], "has no alias"),
        (["--input-dir", "{original}", "--output", "{original}"], "is not the output of"),
        (["--input", "{tmp}/empty.csv"], "is not a CSV file with a header line"),
        (["--input-dir", "{original}", "--model-uri", "models:fusion"], "Not a proper models:/"),
        (["--input-dir", "{original}", "--model-uri", "runs:/0123abcd/model"], "not found"),
        (["--input-dir", "{original}", "--model-uri", "{tmp}/no-model"], "No such artifact"),
        (["--input-dir", "{original}", "--output", "{tmp}/columns.csv/out"], "Cannot create"),
    ],
)
def test_input_errors_are_one_line(  # noqa: PLR0917 - fixtures and parameters
    catalogues, fusion_version, tmp_path, capsys, arguments, message
) -> None:
    (tmp_path / "columns.csv").write_text("productid,title\n1,Lampe\n", encoding="utf-8")
    (tmp_path / "empty.csv").write_bytes(b"")
    values = {"tmp": tmp_path, "original": catalogues.original}
    argv = [argument.format(**values) for argument in arguments]
    if "--model-uri" not in argv:
        argv += ["--model-uri", f"models:/fusion@{ALIAS}"]
    if "--output" not in argv:
        argv += ["--output", str(tmp_path / "out.parquet")]
    status, printed = _score(*argv, capsys=capsys)
    assert status == 1
    assert message in printed
    assert len(printed.strip().splitlines()) == 1, printed
    assert "Traceback" not in printed


def test_a_job_whose_model_did_not_load_leaves_its_output_to_the_next(
    catalogues, fusion_version, tmp_path, capsys
) -> None:
    output = tmp_path / "scores"
    argv = ["--input-dir", catalogues.original, "--output", output, "--model-uri"]
    status, printed = _score(*argv, tmp_path / "no-model", capsys=capsys)  # a typo of a path
    assert status == 1
    assert len(printed.strip().splitlines()) == 1, printed
    status, printed = _score(*argv, f"models:/fusion@{ALIAS}", capsys=capsys)
    assert status == 0, printed
    assert len(_read(output)) > 0


def test_ctrl_c_keeps_the_parts_and_says_the_command_resumes(
    catalogues, fusion_version, tmp_path, monkeypatch, capsys
) -> None:
    from product_classifier.scoring import local_engine

    def stopped(job: object) -> None:
        del job
        raise KeyboardInterrupt

    monkeypatch.setattr(local_engine, "score_locally", stopped)
    status, printed = _score_table(catalogues, tmp_path / "scores", capsys=capsys)
    assert status == 130
    assert printed.strip() == (
        "Interrupted: the parts written so far are kept; the same command resumes."
    )


def test_help_describes_every_argument(capsys) -> None:
    with pytest.raises(SystemExit):
        score_catalogue.main(["--help"])
    text = capsys.readouterr().out
    for option in (
        "--model-uri",
        "--input-dir",
        "--input",
        "--output",
        "--engine",
        "--master",
        "--top-k",
        "--batch-size",
        "--rows-per-part",
        "--partitions",
        "--spark-conf",
        "--text-only",
    ):
        assert option in text


# --- Spark -------------------------------------------------------------------------------------


def _assert_same_scores(spark_output: Path, local_output: Path) -> None:
    ours, theirs = _read(spark_output), _read(local_output)
    assert list(ours.index) == list(theirs.index)
    assert ours[ERROR].fillna("").tolist() == theirs[ERROR].fillna("").tolist()
    scored = ours[ERROR].isna()
    assert scored.sum() > 100
    assert (
        ours.loc[scored, category_column(1)].tolist()
        == theirs.loc[scored, category_column(1)].tolist()
    )
    # Probabilities within 1e-5 (the output is in percent): the engines batch rows differently,
    # and float32 matrix products of other batch sizes round differently (~1e-8 here).
    for rank in range(1, TOP_K + 1):
        np.testing.assert_allclose(
            ours.loc[scored, probability_column(rank)].to_numpy() / 100.0,
            theirs.loc[scored, probability_column(rank)].to_numpy() / 100.0,
            atol=1e-5,
            rtol=0,
        )
    assert (ours["model_version"] == theirs["model_version"]).all()


@pytest.mark.parametrize("source", ["table", "original"])
def test_spark_and_local_engines_give_the_same_answers(  # noqa: PLR0917 - fixtures
    spark, catalogues, local_table, local_original, tmp_path, capsys, source
) -> None:
    output = tmp_path / "spark.parquet"
    given = (
        ["--input", catalogues.table] if source == "table" else ["--input-dir", catalogues.original]
    )
    status, printed = _score(
        "--model-uri",
        f"models:/fusion@{ALIAS}",
        *given,
        "--output",
        output,
        "--engine",
        "spark",
        "--batch-size",
        64,
        "--partitions",
        3,
        capsys=capsys,
    )
    assert status == 0, printed
    _assert_same_scores(output, local_table if source == "table" else local_original)
    assert "Scored" in printed


def test_spark_reads_the_real_x_csv_as_pandas_does(spark) -> None:
    if not (REAL_SAMPLE_DIR / X_FILE).is_file():
        pytest.skip(f"the real sample is not at {REAL_SAMPLE_DIR}")
    from product_classifier.scoring.spark_engine import read_catalogue

    catalogue = describe_original(str(REAL_SAMPLE_DIR), text_only=True)
    here = pd.concat(
        [model_rows(chunk, catalogue) for chunk in read_chunks(catalogue, 500)], ignore_index=True
    )
    raw, _ = read_catalogue(spark, catalogue)
    there = model_rows(raw.toPandas(), catalogue)
    assert len(here) == len(there) > 1000
    pd.testing.assert_frame_equal(here, there)
