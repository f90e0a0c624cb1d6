"""A fusion run says which text and image versions it builds on, and warns about test overlap."""

import logging
from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from product_classifier.data.creation import create_datasets
from product_classifier.data.dataset_folder import read_split
from product_classifier.training.encoder_sources import (
    EncoderSource,
    count_test_overlap,
    encoder_source,
    report_encoders,
)
from tests.data.test_create_datasets import _options, _write_original


@pytest.fixture(scope="module")
def datasets(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two datasets of the same products, split with different seeds (their splits overlap)."""
    root = tmp_path_factory.mktemp("encoders")
    original = _write_original(root / "original", rows_per_code=10)
    first, second = root / "first", root / "second"
    create_datasets(_options(original, first, random_state=1))
    create_datasets(_options(original, second, random_state=2))
    return first, second


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> MlflowClient:
    store = tmp_path_factory.mktemp("store")
    mlflow.set_tracking_uri(f"sqlite:///{store / 'mlflow.db'}")
    mlflow.set_registry_uri(f"sqlite:///{store / 'mlflow.db'}")
    return MlflowClient()


def _register(client: MlflowClient, name: str, dataset: Path | None) -> str:
    """A version of ``name`` whose run trained on ``dataset`` (tag as the pipeline sets it)."""
    experiment = client.get_experiment_by_name("encoders") or client.get_experiment(
        client.create_experiment("encoders")
    )
    tags = {"dataset": str(dataset)} if dataset else {}
    run = client.create_run(experiment.experiment_id, tags=tags)
    if name not in {model.name for model in client.search_registered_models()}:
        client.create_registered_model(name)
    version = client.create_model_version(name, f"runs:/{run.info.run_id}/model", run.info.run_id)
    return f"models:/{name}/{version.version}"


def test_source_names_the_run_and_its_dataset(client, datasets) -> None:
    first, _ = datasets
    uri = _register(client, "text", first)
    source = encoder_source("text", uri, client)
    assert source.dataset_dir == first
    assert source.run_id
    assert source.describe() == f"{uri} (run {source.run_id[:8]}..., trained on {first})"


def test_overlap_counts_the_test_rows_an_encoder_trained_on(datasets) -> None:
    first, second = datasets
    test, _ = read_split(second, "test")
    trained, _ = read_split(first, "train")
    expected = len(
        set(zip(test["productid"], test["imageid"], strict=True))
        & set(zip(trained["productid"], trained["imageid"], strict=True))
    )
    assert expected > 0, "two seeds over the same products must overlap"
    source = EncoderSource("text", "models:/text/1", "run", first)
    assert count_test_overlap(source, second, test) == expected
    same = EncoderSource("text", "models:/text/1", "run", second)
    assert count_test_overlap(same, second, test) == 0
    unknown = EncoderSource("text", "models:/text/1", None, None)
    assert count_test_overlap(unknown, second, test) is None


def test_report_says_versions_and_warns_loudly_about_overlap(client, datasets, caplog) -> None:
    first, second = datasets
    test, _ = read_split(second, "test")
    text = encoder_source("text", _register(client, "text", first), client)
    image = encoder_source("image", _register(client, "image", second), client)
    with caplog.at_level(logging.INFO):
        params = report_encoders([text, image], second, test)
    assert f"The fusion model builds on {text.describe()} and {image.describe()}." in caplog.text
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings
    overlap = params["text_model_test_overlap_rows"]
    assert isinstance(overlap, int)
    assert overlap > 0
    assert warnings[0].startswith(f"WARNING: {overlap} of the {len(test)} fusion test rows")
    assert "--text-model-uri" in warnings[0]
    assert params["image_model_test_overlap_rows"] == 0
    assert params["text_model_dataset"] == str(first)


def test_an_unknown_dataset_is_said_too(client, datasets, caplog) -> None:
    _, second = datasets
    test, _ = read_split(second, "test")
    source = encoder_source("image", _register(client, "image", None), client)
    with caplog.at_level(logging.WARNING):
        params = report_encoders([source], second, test)
    assert params["image_model_test_overlap_rows"] == -1
    assert "Cannot tell whether" in caplog.text
