"""Training is repeatable: the same data and ``--seed`` give the same model, another seed another.

Three short text trainings (2 epochs, refit included) through the real CLI on the session's
generated dataset, registered under their own name in the session's MLflow store.
"""

from pathlib import Path

import keras
import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from product_classifier.data.dataset_folder import read_split
from product_classifier.training.split_data import validation_positions
from tests.trained_models import run_main

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

REGISTERED = "text_seeded"


def _train(dataset: Path, output: Path, seed: int) -> tuple[list[np.ndarray], str]:
    """Train the text model with ``seed``; return its weights and the registered version's URI."""
    from scripts import train_text_model

    argv = ["--input-dir", dataset, "--output-dir", output, "--epochs", 2, "--batch-size", 64]
    argv += ["--seed", seed, "--registered-model", REGISTERED]
    assert run_main(train_text_model.main, argv) == 0
    weights = keras.saving.load_model(output / "model.keras").get_weights()
    latest = max(
        int(version.version)
        for version in MlflowClient().search_model_versions(f"name='{REGISTERED}'")
    )
    return weights, f"models:/{REGISTERED}/{latest}"


def _probabilities(model_uri: str, rows: pd.DataFrame) -> np.ndarray:
    """Served probabilities of ``rows``, one row per product, in the served order."""
    request = pd.DataFrame(
        {
            "product_id": [str(value) for value in rows["productid"]],
            "designation": rows["designation"].fillna("").astype(str),
            "description": rows["description"].fillna("").astype(str),
            "image_path": [""] * len(rows),
        }
    )
    predictions = mlflow.pyfunc.load_model(model_uri).predict(request)
    return np.array(
        [[(item["category_id"], item["probabilities"]) for item in row] for row in predictions]
    )


def test_same_data_and_seed_give_the_same_weights_and_predictions(dataset, tmp_path) -> None:
    first, first_uri = _train(dataset, tmp_path / "first", seed=7)
    second, second_uri = _train(dataset, tmp_path / "second", seed=7)
    other, _ = _train(dataset, tmp_path / "other", seed=8)

    assert len(first) == len(second)
    for mine, theirs in zip(first, second, strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert any(not np.array_equal(mine, theirs) for mine, theirs in zip(first, other, strict=True))

    rows, _ = read_split(dataset, "test")
    np.testing.assert_array_equal(
        _probabilities(first_uri, rows.head(40)), _probabilities(second_uri, rows.head(40))
    )
    run_id = MlflowClient().get_model_version(REGISTERED, first_uri.rsplit("/", 1)[1]).run_id
    assert run_id is not None
    assert MlflowClient().get_run(run_id).data.params["seed"] == "7"


def test_the_seed_chooses_the_validation_rows() -> None:
    codes = pd.Series([10, 40, 50, 60] * 25)
    chosen = {seed: validation_positions(codes, seed=seed)[1] for seed in (3, 4)}
    np.testing.assert_array_equal(validation_positions(codes, seed=3)[1], chosen[3])
    assert not np.array_equal(chosen[3], chosen[4])
