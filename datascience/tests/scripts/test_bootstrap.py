"""The demo bootstrap's bookkeeping, with a real MLflow store (no training: versions are logged
with a small artifact). The full bootstrap runs in tests/test_start_script.py.
"""

import fcntl
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient
from scripts.demo_bookkeeping import (
    DemoLayout,
    DemoRecipe,
    DemoSettings,
    promote,
    served_version,
)

from product_classifier.settings import get_platform_settings
from product_classifier.training.checkpoints import RunFiles, TrainingState
from product_classifier.training.plan import finished_training
from scripts import bootstrap_demo

RECIPE = DemoRecipe(products=100, epochs=1, image_size=32, image_weights="none", seed=1)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowClient]:
    """A client of an MLflow store of this module (other tests' registries stay untouched)."""
    store = tmp_path_factory.mktemp("bootstrap-mlflow")
    uri = f"sqlite:///{store / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    yield MlflowClient()
    get_platform_settings().configure_mlflow()


def unique(prefix: str) -> str:
    """A registered model name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def register(client: MlflowClient, name: str) -> tuple[int, str]:
    """Log a run with a small artifact and register it as a new version of ``name``.

    The run goes to the experiment ``bootstrap`` of the client's store, whose artifacts live
    beside the store's database (never in an ``mlruns`` folder of the current directory).
    """
    experiment = client.get_experiment_by_name("bootstrap")
    if experiment is None:
        database = Path(client.tracking_uri.removeprefix("sqlite:///"))
        artifacts = database.parent / "artifacts"
        experiment_id = client.create_experiment("bootstrap", artifact_location=artifacts.as_uri())
    else:
        experiment_id = experiment.experiment_id
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_text("not a real model", "model/README.txt")
    if not client.search_registered_models(filter_string=f"name = '{name}'"):
        client.create_registered_model(name)
    version = client.create_model_version(
        name, f"{run.info.artifact_uri}/model", run_id=run.info.run_id
    )
    return int(version.version), run.info.run_id


def finished_state(output_dir: Path, run_id: str, *, completed: bool = True) -> None:
    """Write the checkpoint state a training leaves in its output folder."""
    state = TrainingState("text", "/data", run_id, completed=completed)
    state.save(RunFiles(output_dir).state)


# --- settings and layout -------------------------------------------------------------------


def test_demo_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_PRODUCTS", "120")
    monkeypatch.setenv("DEMO_EPOCHS", "2")
    settings = DemoSettings()
    assert (settings.DEMO_PRODUCTS, settings.DEMO_EPOCHS) == (120, 2)
    monkeypatch.setenv("DEMO_PRODUCTS", "10")
    with pytest.raises(ValueError, match="DEMO_PRODUCTS"):
        DemoSettings()


def test_layout_keeps_an_earlier_run_of_the_same_recipe(tmp_path: Path) -> None:
    layout = DemoLayout.for_state_dir(tmp_path)
    assert layout.prepare(RECIPE) is True
    layout.sample_dir.mkdir()
    (layout.sample_dir / "X.csv").write_text("kept")
    leftover = layout.root / ".dataset.tmp123"  # an interrupted atomic write
    leftover.mkdir()

    assert layout.prepare(RECIPE) is False
    assert (layout.sample_dir / "X.csv").read_text() == "kept"
    assert not leftover.exists()


def test_layout_starts_afresh_when_the_recipe_changes(tmp_path: Path) -> None:
    layout = DemoLayout.for_state_dir(tmp_path)
    layout.prepare(RECIPE)
    for folder in (layout.sample_dir, layout.dataset_dir, layout.training_dir("text")):
        folder.mkdir(parents=True)

    changed = DemoRecipe(products=200, epochs=1, image_size=32, image_weights="none", seed=1)
    assert layout.prepare(changed) is True
    assert not layout.sample_dir.exists()
    assert not layout.dataset_dir.exists()
    assert not layout.training_root.exists()
    assert '"products": 200' in layout.recipe_file.read_text()


def test_lock_is_exclusive(tmp_path: Path) -> None:
    layout = DemoLayout.for_state_dir(tmp_path)
    with layout.locked(), layout.lock_file.open("a") as other, pytest.raises(BlockingIOError):
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    with layout.lock_file.open("a") as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released


# --- registry ------------------------------------------------------------------------------


def test_finished_training_needs_a_completed_run_still_in_the_registry(
    client: MlflowClient, tmp_path: Path
) -> None:
    name = unique("text")
    output_dir = tmp_path / "text"
    assert finished_training(output_dir, name, client) is None  # never trained

    version, run_id = register(client, name)
    finished_state(output_dir, run_id, completed=False)
    assert finished_training(output_dir, name, client) is None  # interrupted

    finished_state(output_dir, run_id)
    found = finished_training(output_dir, name, client)
    assert found is not None
    assert found.version == version

    client.delete_model_version(name, str(version))
    assert finished_training(output_dir, name, client) is None  # deleted since


def test_promote_gives_fusion_production_and_the_served_name_its_alias(
    client: MlflowClient,
) -> None:
    versions = {kind: register(client, kind)[0] for kind in ("text", "image", "fusion")}

    assert promote(versions, "fusion", "production", client) == ["models:/fusion@production"]
    assert served_version("fusion", "production", client) == versions["fusion"]

    done = promote(versions, "text", "staging", client)
    assert done == ["models:/fusion@production", "models:/text@staging"]
    assert served_version("text", "staging", client) == versions["text"]

    custom = unique("served")
    assert promote(versions, custom, "production", client)[-1] == f"models:/{custom}@production"
    copied = client.get_model_version_by_alias(custom, "production")
    source = client.get_model_version("fusion", str(versions["fusion"]))
    assert copied.run_id == source.run_id


# --- the command ---------------------------------------------------------------------------


@pytest.fixture
def served_name(tmp_path: Path) -> Iterator[str]:
    """A unique MODEL_NAME and a fresh STATE_DIR for the command; the settings are restored."""
    name = unique("served")
    changed = {"MODEL_NAME": name, "STATE_DIR": str(tmp_path / "state")}
    previous = {key: os.environ.get(key) for key in changed}
    os.environ.update(changed)
    get_platform_settings.cache_clear()
    try:
        yield name
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_platform_settings.cache_clear()
        get_platform_settings().configure_mlflow()


def test_command_returns_at_once_when_the_alias_exists(
    served_name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bootstrap_demo.main(["--check-only"]) == bootstrap_demo.EXIT_NOT_SERVED
    assert f"No model is registered as models:/{served_name}@production" in capsys.readouterr().out

    # The command pointed MLflow at the embedded store under the new STATE_DIR.
    client = MlflowClient()
    version, _ = register(client, served_name)
    client.set_registered_model_alias(served_name, "production", str(version))
    assert bootstrap_demo.main(["--check-only"]) == 0
    assert bootstrap_demo.main([]) == 0
    assert "no demo model needed" in capsys.readouterr().out
    demo_dir = get_platform_settings().STATE_DIR / "demo"
    assert not demo_dir.exists(), "nothing is built when the served alias exists"


def test_dense_models_train_longer_than_the_image_model() -> None:
    recipe = DemoRecipe(products=100, epochs=3, image_size=32, image_weights="none", seed=1)
    assert recipe.training_epochs("image") == (3, 3)
    assert recipe.training_epochs("text") == (12, 2)
    assert recipe.training_epochs("fusion") == (12, 2)
