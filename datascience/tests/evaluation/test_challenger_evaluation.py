"""Replay and gated promotion: ``evaluate_challenger`` and ``promote_model --gate``.

Two real text models are trained into the registered model ``text-replay`` (the mechanism does
not depend on the kind): a good one (at most 5 epochs on the session's generated dataset) and a
worse one (1 epoch on the same rows with shuffled labels). Both are scored through their pyfunc
on the dataset's test split, and on the same rows sent as production feedback (a SQLite database
laid out as the API's ``feedback`` and ``predictions`` tables, and an image store).
"""

import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import mlflow.pyfunc
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from product_classifier.data.dataset_folder import image_paths, read_split, split_file_names
from product_classifier.evaluation.challenger import (
    ACCURACY_GAIN_TAG,
    ARTIFACT_DIR,
    CHAMPION_VERSION_TAG,
    F1_GAIN_TAG,
    ROWS_TAG,
    RUN_TAG,
    TABLE_FILE,
)
from product_classifier.evaluation.comparison import compare
from product_classifier.evaluation.gate import MissingEvaluationError, gate_decision
from product_classifier.evaluation.replay_rows import predict_probabilities
from product_classifier.image_store import ImageStore, sha256_hex
from product_classifier.scoring.rows import NO_TEXT
from product_classifier.tracking.registry import latest_version
from scripts import evaluate_challenger, promote_model, train_text_model
from tests.trained_models import run_main

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

MODEL = "text-replay"
ALIAS = "production"
RESAMPLES = 200


@dataclass(frozen=True)
class ReplayModels:
    good: str
    worse: str
    test_rows: int


def _shuffled_labels(dataset: Path, folder: Path) -> Path:
    """A copy of the dataset whose training labels are shuffled (a deliberately worse model)."""
    shutil.copytree(dataset, folder, ignore=shutil.ignore_patterns("images"))
    y_name = split_file_names("train")[1]
    targets = pd.read_csv(folder / y_name, index_col=0)
    targets["prdtypecode"] = np.random.default_rng(3).permutation(targets["prdtypecode"].to_numpy())
    targets.to_csv(folder / y_name)
    return folder


@pytest.fixture(scope="module")
def models(dataset, tmp_path_factory) -> ReplayModels:
    root = tmp_path_factory.mktemp("replay-models")
    versions = []
    for source, epochs, name in (
        (dataset, 5, "good"),
        (_shuffled_labels(dataset, root / "shuffled"), 1, "worse"),
    ):
        argv = ["--input-dir", source, "--output-dir", root / name, "--epochs", epochs]
        argv += ["--batch-size", 32, "--no-refit", "--registered-model", MODEL]
        assert run_main(train_text_model.main, argv) == 0
        versions.append(str(latest_version(MODEL).version))
    good, worse = versions
    return ReplayModels(good, worse, test_rows=len(read_split(dataset, "test")[1]))


def _evaluate(*argv: object) -> int:
    return run_main(evaluate_challenger.main, [*argv, "--resamples", RESAMPLES])


def _promote(version: str, *extra: object) -> int:
    argv = ["--name", MODEL, "--version", version, "--alias", ALIAS, *extra]
    return run_main(promote_model.main, argv)


def _tags(version: str) -> dict[str, str]:
    return dict(MlflowClient().get_model_version(MODEL, version).tags)


def _holder() -> str:
    return str(MlflowClient().get_registered_model(MODEL).aliases[ALIAS])


def test_the_gate_refuses_a_worse_version_and_accepts_a_better_one(
    models: ReplayModels, dataset: Path, capsys
) -> None:
    assert _promote(models.good) == 0  # without --gate: as before
    assert _promote(models.worse, "--gate") == 2, "no evaluation recorded yet"
    assert "run python -m scripts.evaluate_challenger" in capsys.readouterr().err
    assert _holder() == models.good

    # The worse version against the production holder, on the dataset's test split.
    assert _evaluate("--challenger", f"models:/{MODEL}/{models.worse}", "--dataset", dataset) == 0
    table = capsys.readouterr().out
    assert f"on {models.test_rows} rows (test split of {dataset})" in table
    assert "weighted F1" in table
    assert "Per-category F1" in table
    tags = _tags(models.worse)
    assert tags[CHAMPION_VERSION_TAG] == models.good
    assert int(tags[ROWS_TAG]) == models.test_rows
    assert float(tags[F1_GAIN_TAG]) < 0
    assert float(tags[ACCURACY_GAIN_TAG]) < 0

    # The champion's score on the replayed rows is its training run's own test score.
    client = MlflowClient()
    run = client.get_run(tags[RUN_TAG]).data.metrics
    good_run = client.get_model_version(MODEL, models.good).run_id
    assert good_run is not None
    training = client.get_run(good_run).data.metrics
    assert run["champion_accuracy"] == pytest.approx(training["test_accuracy"], abs=1e-6)
    assert run["champion_f1_weighted"] == pytest.approx(training["test_f1_weighted"], abs=1e-6)
    assert run["f1_weighted_gain"] == pytest.approx(
        run["challenger_f1_weighted"] - run["champion_f1_weighted"]
    )
    assert run["f1_weighted_gain_ci_low"] <= run["f1_weighted_gain"]
    assert run["f1_weighted_gain"] <= run["f1_weighted_gain_ci_high"]
    artifacts = client.download_artifacts(tags[RUN_TAG], f"{ARTIFACT_DIR}/{TABLE_FILE}")
    assert Path(artifacts).read_text(encoding="utf-8") == table.split("\nLogged to MLflow")[0]

    assert _promote(models.worse, "--gate") == 3
    assert "Refused" in capsys.readouterr().err
    assert _holder() == models.good

    # Now the worse version holds the alias: the good one must be evaluated against it.
    assert _promote(models.worse) == 0
    assert _promote(models.good, "--gate") == 2
    assert "run python -m scripts.evaluate_challenger" in capsys.readouterr().err
    assert _evaluate("--challenger", f"models:/{MODEL}/{models.good}", "--dataset", dataset) == 0
    assert float(_tags(models.good)[F1_GAIN_TAG]) > 0
    assert _promote(models.good, "--gate", "--min-rows", models.test_rows + 1) == 3
    assert "fewer than the minimum" in capsys.readouterr().err
    assert _promote(models.good, "--gate", "--min-gain", 2.0) == 3
    assert _holder() == models.worse
    assert _promote(models.good, "--gate") == 0
    assert "Gate passed" in capsys.readouterr().out
    assert _holder() == models.good

    # The worse version's evaluation was against the good one, which holds the alias again.
    assert _promote(models.worse, "--gate") == 3
    assert _promote(models.good, "--gate") == 0, "already the holder: nothing to beat"
    assert "already holds the alias" in capsys.readouterr().out


def _feedback_database(dataset: Path, folder: Path) -> tuple[str, str]:
    """The test rows as production predictions with their images, and the sellers' feedback.

    Returns:
        ``(database URL, image store folder)``.
    """
    features, targets = read_split(dataset, "test")
    store = ImageStore(str(folder / "images"))
    database = folder / "app.db"
    with sqlite3.connect(database) as connection:
        connection.execute(
            "CREATE TABLE predictions (id INTEGER PRIMARY KEY, product_id TEXT, "
            "model_version TEXT, designation TEXT, description TEXT, image_sha256 TEXT)"
        )
        connection.execute(
            "CREATE TABLE feedback (id INTEGER PRIMARY KEY, created_at TEXT, product_id TEXT, "
            "model_version TEXT, real_category_id INTEGER, prediction_id INTEGER)"
        )
        paths = image_paths(dataset, features)
        for number, (row, code, path) in enumerate(
            zip(features.itertuples(), targets, paths, strict=True), start=1
        ):
            data = path.read_bytes()
            store.put(data)
            connection.execute(
                "INSERT INTO predictions VALUES (?, ?, '1', ?, ?, ?)",
                (number, str(row.productid), row.designation, row.description, sha256_hex(data)),
            )
            connection.execute(
                "INSERT INTO feedback VALUES (?, '2026-11-01 10:00:00', ?, '1', ?, ?)",
                (number, str(row.productid), int(code), number),
            )
    return f"sqlite:///{database}", str(folder / "images")


def test_from_feedback_replays_the_production_rows(
    models: ReplayModels, dataset: Path, tmp_path: Path, capsys
) -> None:
    database_url, store = _feedback_database(dataset, tmp_path)
    pair = ["--challenger", f"models:/{MODEL}/{models.worse}"]
    pair += ["--champion", f"models:/{MODEL}/{models.good}"]
    assert _evaluate(*pair, "--dataset", dataset) == 0
    from_dataset = _tags(models.worse)
    source = ["--database-url", database_url, "--image-store-url", store]
    assert _evaluate(*pair, "--from-feedback", *source) == 0
    assert f"on {models.test_rows} rows (production feedback)" in capsys.readouterr().out
    from_feedback = _tags(models.worse)
    # The same rows and labels, replayed from production: the same scores.
    assert from_feedback[ROWS_TAG] == from_dataset[ROWS_TAG]
    assert from_feedback[F1_GAIN_TAG] == from_dataset[F1_GAIN_TAG]
    assert from_feedback["evaluation.source"] == "production feedback"
    assert from_feedback[RUN_TAG] != from_dataset[RUN_TAG]

    assert _evaluate(*pair, "--from-feedback", "--since", "2026-12-01", *source) == 2
    assert "No feedback to export since 2026-12-01" in capsys.readouterr().err


def test_bad_model_references_are_one_line_errors(models: ReplayModels, dataset, capsys) -> None:
    same = f"models:/{MODEL}/{models.good}"
    assert _evaluate("--challenger", same, "--champion", same, "--dataset", dataset) == 1
    assert "same version" in capsys.readouterr().err
    assert _evaluate("--challenger", f"models:/{MODEL}/999", "--dataset", dataset) == 1
    assert "has no version 999" in capsys.readouterr().err
    # A champion of another registered model: its evaluation would let the gate replace a
    # version of this model on a comparison with another one.
    other = MlflowClient().copy_model_version(f"models:/{MODEL}/{models.worse}", "other-model")
    other_uri = f"models:/other-model/{other.version}"
    challenger = f"models:/{MODEL}/{models.good}"
    assert _evaluate("--challenger", challenger, "--champion", other_uri, "--dataset", dataset) == 1
    assert "is a version of 'other-model', not of" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        _evaluate("--challenger", same, "--dataset", dataset, "--since", "2026-01-01")
    assert exit_info.value.code == 2


def test_gate_decision_rules() -> None:
    tags = {F1_GAIN_TAG: "0.01", ACCURACY_GAIN_TAG: "0.0", ROWS_TAG: "50"}
    assert gate_decision({}, None).allowed  # a free alias: nothing to beat
    with pytest.raises(MissingEvaluationError, match="evaluate_challenger first"):
        gate_decision(tags, "2")
    tags[CHAMPION_VERSION_TAG] = "1"
    with pytest.raises(MissingEvaluationError, match="against version 1"):
        gate_decision(tags, "2")
    assert gate_decision(tags, "1").allowed
    assert not gate_decision(tags, "1", min_gain=0.02).allowed
    assert not gate_decision(tags, "1", min_rows=51).allowed
    assert not gate_decision({**tags, F1_GAIN_TAG: "-0.0001"}, "1").allowed


def test_paired_intervals_hold_the_difference_and_vanish_for_identical_models() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 27, 200).astype(np.int32)
    champion = rng.random((200, 27))
    challenger = champion.copy()
    challenger[np.arange(100), labels[:100]] = 10.0  # right on half of the rows
    same = compare(labels, champion, champion, resamples=200)
    assert (same.f1_gain.low, same.f1_gain.value, same.f1_gain.high) == (0.0, 0.0, 0.0)
    better = compare(labels, champion, challenger, resamples=200)
    assert 0 < better.accuracy_gain.low <= better.accuracy_gain.value <= better.accuracy_gain.high
    assert better.challenger_accuracy - better.champion_accuracy == pytest.approx(
        better.accuracy_gain.value
    )


def test_help_describes_every_argument(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        evaluate_challenger.main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for option in (
        "--challenger",
        "--champion",
        "--dataset",
        "--from-feedback",
        "--since",
        "--resamples",
        "--database-url",
        "--image-store-url",
    ):
        assert option in text


def test_rows_a_model_cannot_read_are_refused_not_scored(models: ReplayModels) -> None:
    # A text model on a --mixed dataset: an image-only row would get the uniform 100/27 % and
    # count as a (wrong) prediction of both models.
    model = mlflow.pyfunc.load_model(f"models:/{MODEL}/{models.good}")
    inputs = pd.DataFrame(
        {
            "product_id": ["1", "2"],
            "designation": ["Lot de 3 cahiers grand format", ""],
            "description": ["", " "],
            "image_path": ["", "/nowhere/image_1_product_2.jpg"],
        }
    )
    probabilities, errors = predict_probabilities(model, inputs)
    assert errors == [None, NO_TEXT]
    assert probabilities[0].sum() == pytest.approx(1.0, abs=1e-3)
    assert probabilities[1].sum() == 0
