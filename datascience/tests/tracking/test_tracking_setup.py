"""Where experiments keep their artifacts: beside the tracking store, unless a setting says."""

from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from product_classifier.settings import PlatformSettings, sqlite_file
from product_classifier.tracking.setup import ensure_experiment


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("sqlite:////data/mlflow/mlflow.db", Path("/data/mlflow/mlflow.db")),
        ("sqlite:///relative/mlflow.db", Path("relative/mlflow.db").absolute()),
        ("sqlite:////data/mlflow.db?timeout=20", Path("/data/mlflow.db")),
        ("sqlite:///:memory:", None),
        ("postgresql+psycopg2://postgres@127.0.0.1/mlflow", None),
        ("http://127.0.0.1:5000", None),
    ],
)
def test_sqlite_file_of_a_tracking_uri(uri, expected) -> None:
    assert sqlite_file(uri) == expected


def test_default_store_keeps_its_artifacts_in_the_state_dir(tmp_path) -> None:
    settings = PlatformSettings(STATE_DIR=tmp_path, MLFLOW_TRACKING_URI="", MLFLOW_ARTIFACT_ROOT="")
    assert settings.mlflow_artifacts_dir == tmp_path / "mlflow" / "artifacts"


def test_a_database_server_store_keeps_them_in_the_state_dir(tmp_path) -> None:
    settings = PlatformSettings(
        STATE_DIR=tmp_path,
        MLFLOW_TRACKING_URI="postgresql+psycopg2://postgres@127.0.0.1/mlflow",
        MLFLOW_ARTIFACT_ROOT="",
    )
    assert settings.mlflow_artifacts_dir == tmp_path / "mlflow" / "artifacts"


def _experiment_location(settings: PlatformSettings, kind: str) -> str:
    settings.configure_mlflow()
    experiment_id = ensure_experiment(kind, settings)
    return str(MlflowClient().get_experiment(experiment_id).artifact_location)


def test_artifacts_follow_a_sqlite_store_kept_elsewhere(tmp_path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    state = tmp_path / "state"
    settings = PlatformSettings(
        STATE_DIR=state,
        MLFLOW_TRACKING_URI=f"sqlite:///{elsewhere / 'mlflow.db'}",
        MLFLOW_ARTIFACT_ROOT="",
    )
    location = _experiment_location(settings, "text")
    assert location == (elsewhere / "artifacts" / "text-model").as_uri()
    assert (elsewhere / "artifacts" / "text-model").is_dir()
    assert not (state / "mlflow").exists(), "nothing in the project's state folder"


@pytest.mark.parametrize("form", ["folder", "uri"])
def test_mlflow_artifact_root_says_otherwise(tmp_path, form) -> None:
    chosen = tmp_path / "chosen"
    settings = PlatformSettings(
        STATE_DIR=tmp_path / "state",
        MLFLOW_TRACKING_URI=f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}",
        MLFLOW_ARTIFACT_ROOT=str(chosen) if form == "folder" else chosen.as_uri() + "/",
    )
    (tmp_path / "store").mkdir()
    location = _experiment_location(settings, "image")
    assert location == (chosen / "image-model").as_uri()
    assert (chosen / "image-model").is_dir()
    assert not (tmp_path / "store" / "artifacts").exists()


def test_a_remote_artifact_root_is_passed_on_as_it_is(tmp_path) -> None:
    settings = PlatformSettings(STATE_DIR=tmp_path, MLFLOW_ARTIFACT_ROOT="s3://bucket/mlflow")
    assert not settings.artifact_root_is_local
    assert settings.mlflow_artifact_root == "s3://bucket/mlflow"
