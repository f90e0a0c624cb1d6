"""End-to-end training tests: real small models, a real temporary MLflow store, the real CLIs.

One generated dataset and one text, image and fusion model are trained once per session (1-2
epochs, 32x32 images, :mod:`tests.trained_models`) and shared by the tests below.
"""

import dataclasses
import json
import textwrap
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from PIL import Image

from product_classifier.categories import CATEGORY_CODES, NUM_CATEGORIES
from product_classifier.data.dataset_folder import image_paths, read_split
from product_classifier.serving.contract import ProductInput
from product_classifier.settings import get_platform_settings
from product_classifier.training.split_data import load_split_data
from tests.fresh_process import run_fresh_python
from tests.trained_models import BACKBONE_WEIGHTS, IMAGE_SIZE, run_main

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def _version_run(name: str, version: int = 1):
    """The MLflow run that produced a registered model version."""
    run_id = MlflowClient().get_model_version(name, str(version)).run_id
    assert run_id is not None
    return MlflowClient().get_run(run_id)


def _rows(dataset: Path, count: int = 3) -> tuple[pd.DataFrame, list[str]]:
    features, _ = read_split(dataset, "test")
    rows = features.head(count)
    return rows, [str(path) for path in image_paths(dataset, rows)]


def _request(rows: pd.DataFrame, paths: list[str], *, text: bool, image: bool) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "product_id": [str(value) for value in rows["productid"]],
            "designation": rows["designation"].tolist() if text else [""] * len(rows),
            "description": rows["description"].tolist() if text else [""] * len(rows),
            "image_path": paths if image else [""] * len(rows),
        }
    )


def _probabilities(predictions) -> np.ndarray:
    """Rows of percentages in category-table order."""
    table = []
    for prediction in predictions:
        by_code = {item["category_id"]: item["probabilities"] for item in prediction}
        table.append([by_code[code] for code in CATEGORY_CODES])
    return np.array(table)


def _assert_contract(predictions, rows: int) -> None:
    assert len(predictions) == rows
    for prediction in predictions:
        assert len(prediction) == NUM_CATEGORIES
        assert {item["category_id"] for item in prediction} == set(CATEGORY_CODES)
        values = [item["probabilities"] for item in prediction]
        assert values == sorted(values, reverse=True)
        assert sum(values) == pytest.approx(100.0, abs=1e-6)
        assert all(isinstance(item["category_id"], int) for item in prediction)


# --- registry and tracking ------------------------------------------------------------------


def test_every_kind_is_registered_with_description_tags_and_a_version(trained) -> None:
    client = MlflowClient()
    for kind in ("text", "image", "fusion"):
        model = client.get_registered_model(kind)
        assert model.description
        assert model.tags["model_kind"] == kind
        versions = client.search_model_versions(f"name = '{kind}'")
        assert len(versions) >= 1
    assert {
        alias: int(version)
        for alias, version in client.get_registered_model("image").aliases.items()
    } == {"staging": 1}


def test_runs_log_params_epoch_metrics_datasets_and_reports(trained) -> None:
    client = MlflowClient()
    run = _version_run("image")
    params = run.data.params
    for name in (
        "input_dir",
        "output_dir",
        "batch_size",
        "train_patience",
        "epochs",
        "set_staging",
    ):
        assert name in params
    assert params["image_size"] == str(IMAGE_SIZE)
    assert params["data_augmentation"] == "True"
    assert params["phases"] == "head,fine_tune"
    history = client.get_metric_history(run.info.run_id, "val_accuracy")
    assert sorted(metric.step for metric in history) == [0, 1]  # one epoch per phase
    for name in ("test_accuracy", "test_f1_weighted", "best_val_accuracy"):
        assert name in run.data.metrics
    contexts = {
        tag.value
        for dataset_input in (run.inputs.dataset_inputs if run.inputs else [])
        for tag in dataset_input.tags
        if tag.key == "mlflow.data.context"
    }
    assert contexts == {"training", "validation", "testing"}
    artifacts = {item.path for item in client.list_artifacts(run.info.run_id, "reports")}
    for name in (
        "classification_report.txt",
        "classification_report.json",
        "confusion_matrix.png",
        "training_history.png",
        "history.csv",
    ):
        assert f"reports/{name}" in artifacts
    assert "data_profile.json" in {item.path for item in client.list_artifacts(run.info.run_id)}
    experiment = client.get_experiment(run.info.experiment_id)
    assert experiment.name == "image-model"
    assert experiment.artifact_location.startswith(
        get_platform_settings().mlflow_artifacts_dir.resolve().as_uri()
    )


def test_every_kind_logs_per_class_scores_and_confused_pairs(trained) -> None:
    client = MlflowClient()
    for kind in ("text", "image", "fusion"):
        run = _version_run(kind)
        artifacts = {item.path for item in client.list_artifacts(run.info.run_id, "reports")}
        for name in ("per_class_report.csv", "confused_pairs.csv", "per_class_report.json"):
            assert f"reports/{name}" in artifacts, (kind, name)
        local = mlflow.artifacts.download_artifacts(
            run_id=run.info.run_id, artifact_path="reports/per_class_report.json"
        )
        report = json.loads(Path(local).read_text(encoding="utf-8"))
        assert [item["code"] for item in report["classes"]] == list(CATEGORY_CODES)
        assert sum(item["support"] for item in report["classes"]) == report["rows"]
        assert report["rows"] == int(run.data.params["test_rows"])


def test_image_training_starts_from_the_local_weights_file(trained) -> None:
    import keras

    from product_classifier.models.image import BACKBONE_LAYER, build_backbone

    path = trained.output / BACKBONE_WEIGHTS
    from_file = build_backbone(IMAGE_SIZE, str(path)).model.get_weights()
    fresh = build_backbone(IMAGE_SIZE, "none").model.get_weights()
    model = keras.saving.load_model(trained.output / "image" / "model.keras")
    backbone = model.get_layer(BACKBONE_LAYER).get_weights()
    # The head phase leaves the frozen backbone as loaded; one fine-tuning epoch at a 1e-5
    # learning rate moves it by far less than 1e-3. A random start is farther than 0.01 away.
    assert len(backbone) == len(from_file)
    for trained_value, file_value in zip(backbone, from_file, strict=True):
        np.testing.assert_allclose(trained_value, file_value, atol=1e-3)
    assert max(float(np.abs(a - b).max()) for a, b in zip(backbone, fresh, strict=True)) > 0.01
    assert _version_run("image").data.params["weights_loaded"] == str(path)


def test_output_dir_holds_reports_figures_logs_and_checkpoints(trained) -> None:
    for kind in ("text", "image", "fusion"):
        folder = trained.output / kind
        for name in (
            "classification_report.txt",
            "classification_report.json",
            "confusion_matrix.png",
            "training_history.png",
            "history.csv",
            "model.keras",
            "checkpoints/best.keras",
            "checkpoints/last.keras",
            "checkpoints/state.json",
        ):
            assert (folder / name).is_file(), f"{kind}: {name}"
        assert any((folder / "tensorboard").rglob("events.out.tfevents.*"))
        report = json.loads((folder / "classification_report.json").read_text())
        assert "weighted avg" in report
        assert Image.open(folder / "confusion_matrix.png").size[0] > 500


def test_validation_rows_come_from_the_training_split_only(trained) -> None:
    data = load_split_data(trained.dataset)
    train_ids = set(read_split(trained.dataset, "train")[0]["productid"])
    validation_ids = set(data.validation.X["productid"])
    test_ids = set(data.test.X["productid"])
    assert validation_ids <= train_ids
    assert validation_ids.isdisjoint(test_ids)
    assert validation_ids.isdisjoint(set(data.train.X["productid"]))
    params = _version_run("text").data.params
    assert int(params["validation_rows"]) == len(data.validation)
    assert int(params["test_rows"]) == len(data.test)


def test_text_model_is_refitted_on_training_and_validation_rows(trained) -> None:
    data = load_split_data(trained.dataset)
    state = json.loads((trained.output / "text" / "checkpoints" / "state.json").read_text())
    assert 1 <= state["best_epochs"]["train"] <= 2
    text_run = _version_run("text")
    assert text_run.data.params["refit"] == "True"
    assert text_run.data.metrics["refit_epochs"] == state["best_epochs"]["train"]
    assert text_run.data.metrics["refit_rows"] == len(data.train) + len(data.validation)
    image_run = _version_run("image")
    assert image_run.data.params["refit"] == "False"
    assert "refit_epochs" not in image_run.data.metrics


# --- promotion ------------------------------------------------------------------------------


def test_promotions_take_turns(trained, capsys) -> None:
    """The holder read, the gate and the move are one step: a second promotion waits."""
    from scripts import promote_model

    argv = ["--name", "fusion", "--version", "1", "--alias", "turns"]
    statuses: list[int] = []
    with promote_model.promotion_lock():
        waiting = threading.Thread(target=lambda: statuses.append(promote_model.main(argv)))
        waiting.start()
        waiting.join(3)
        assert waiting.is_alive(), "the promotion did not wait for the lock"
        assert "turns" not in MlflowClient().get_registered_model("fusion").aliases
    waiting.join(120)
    assert statuses == [0]
    assert "fusion@turns now points to version 1" in capsys.readouterr().out


def test_promote_moves_aliases_and_lists_versions_with_metrics(trained, capsys) -> None:
    from scripts import promote_model

    assert promote_model.main(["--name", "fusion", "--version", "1", "--alias", "production"]) == 0
    assert "fusion@production now points to version 1" in capsys.readouterr().out
    assert int(MlflowClient().get_registered_model("fusion").aliases["production"]) == 1
    assert promote_model.main(["--name", "fusion", "--version", "1", "--alias", "production"]) == 0
    assert capsys.readouterr().out.strip() == "fusion@production already points to version 1."
    assert promote_model.main(["--list"]) == 0
    listing = capsys.readouterr().out
    assert "production" in listing
    assert "staging" in listing
    fusion_line = next(line for line in listing.splitlines() if line.startswith("fusion"))
    accuracy = _version_run("fusion").data.metrics["test_accuracy"]
    assert f"{accuracy:.4f}" in fusion_line


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--name", "nope", "--version", "1", "--alias", "production"],
            "Unknown registered model 'nope'",
        ),
        (["--name", "text", "--version", "99", "--alias", "production"], "has no version 99"),
        (["--name", "text", "--version", "1", "--alias", "bad alias!"], "Invalid alias"),
        (["--name", "text", "--version", "1", "--alias", "latest"], "Invalid alias 'latest'"),
        (["--name", "text", "--version", "1", "--alias", "v1"], "Invalid alias 'v1'"),
        (["--list", "--name", "nope"], "Unknown registered model 'nope'"),
    ],
)
def test_promote_reports_unknown_models_and_versions_in_one_line(
    trained, capsys, argv, message
) -> None:
    from scripts import promote_model

    assert promote_model.main(argv) == 1
    error = capsys.readouterr().err
    assert message in error
    assert len(error.strip().splitlines()) == 1
    assert "Traceback" not in error


# --- the logged models ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def loaded(trained):
    return {
        kind: mlflow.pyfunc.load_model(f"models:/{kind}/1") for kind in ("text", "image", "fusion")
    }


def test_predictions_follow_the_output_contract_for_every_input_mix(trained, loaded) -> None:
    rows, paths = _rows(trained.dataset)
    for model in loaded.values():
        for text, image in ((True, True), (True, False), (False, True)):
            predictions = model.predict(_request(rows, paths, text=text, image=image))
            _assert_contract(predictions, len(rows))


def test_a_model_without_its_inputs_answers_uniform_probabilities(trained, loaded) -> None:
    rows, paths = _rows(trained.dataset)
    uniform = np.full((len(rows), NUM_CATEGORIES), 100.0 / NUM_CATEGORIES)
    image_only = _request(rows, paths, text=False, image=True)
    text_only = _request(rows, paths, text=True, image=False)
    assert np.allclose(_probabilities(loaded["text"].predict(image_only)), uniform)
    assert np.allclose(_probabilities(loaded["image"].predict(text_only)), uniform)
    assert not np.allclose(_probabilities(loaded["text"].predict(text_only)), uniform)
    assert not np.allclose(_probabilities(loaded["image"].predict(image_only)), uniform)
    # Reading only its own input, each single model ignores the other one.
    both = _request(rows, paths, text=True, image=True)
    assert np.allclose(
        _probabilities(loaded["text"].predict(both)),
        _probabilities(loaded["text"].predict(text_only)),
    )


def test_fusion_answers_from_text_only_image_only_and_both(trained, loaded) -> None:
    rows, paths = _rows(trained.dataset)
    fusion = loaded["fusion"]
    answers = {
        mix: _probabilities(fusion.predict(_request(rows, paths, text=text, image=image)))
        for mix, text, image in (
            ("both", True, True),
            ("text", True, False),
            ("image", False, True),
        )
    }
    uniform = np.full_like(answers["both"], 100.0 / NUM_CATEGORIES)
    for mix, probabilities in answers.items():
        assert not np.allclose(probabilities, uniform), mix
    assert not np.allclose(answers["both"], answers["text"])
    assert not np.allclose(answers["both"], answers["image"])
    assert not np.allclose(answers["text"], answers["image"])
    run = _version_run("fusion")
    for view in ("text_only", "image_only"):
        assert f"test_{view}_accuracy" in run.data.metrics


def test_predict_products_matches_the_dataframe_interface(trained, loaded) -> None:
    rows, paths = _rows(trained.dataset)
    for model in loaded.values():
        python_model = model.unwrap_python_model()
        products = [
            ProductInput(designation=designation, description=description, image=Image.open(path))
            for designation, description, path in zip(
                rows["designation"], rows["description"], paths, strict=True
            )
        ]
        from_memory = python_model.predict_products(products)
        from_paths = model.predict(_request(rows, paths, text=True, image=True))
        assert np.allclose(_probabilities(from_memory), _probabilities(from_paths))


def test_served_model_gives_the_trained_model_answers(trained, loaded) -> None:
    """The pyfunc's own preprocessing reproduces what the training pipeline fed the model."""
    import keras

    from product_classifier.training.inputs import predict as keras_predict
    from product_classifier.training.task import MAIN_VIEW
    from product_classifier.training.text_task import TextTask

    data = load_split_data(trained.dataset)
    prepared = TextTask().prepare(data, _files(trained.output / "text-replay"), batch_size=64)
    replayed = keras_predict(
        keras.saving.load_model(trained.output / "text" / "model.keras"),
        prepared.test_views[MAIN_VIEW].inputs,
        64,
    )
    rows = data.test.X
    served = loaded["text"].predict(
        pd.DataFrame({"designation": rows["designation"], "description": rows["description"]})
    )
    assert np.allclose(_probabilities(served), replayed * 100.0, atol=1e-3)


def _files(folder: Path):
    from product_classifier.training.checkpoints import RunFiles

    folder.mkdir(parents=True, exist_ok=True)
    return RunFiles(folder)


def test_unreadable_image_path_is_a_clear_error(trained, loaded) -> None:
    from mlflow.exceptions import MlflowException

    request = pd.DataFrame(
        {"designation": ["x"], "description": [""], "image_path": ["/no/such.jpg"]}
    )
    with pytest.raises(MlflowException, match="not found"):
        loaded["fusion"].predict(request)


FRESH_PROCESS = textwrap.dedent(
    """
    import importlib.util, json, sys
    from pathlib import Path

    # Forget the installed (editable) datascience package: only the model's own code may serve.
    sys.path = [entry for entry in sys.path if not (Path(entry) / "product_classifier").is_dir()]
    assert importlib.util.find_spec("product_classifier") is None, "datascience is importable"

    import mlflow
    import pandas as pd

    tracking_uri, request = sys.argv[1], json.loads(sys.argv[2])
    mlflow.set_tracking_uri(tracking_uri)
    answers = {}
    for uri in ("models:/text/1", "models:/image/1", "models:/fusion@production"):
        model = mlflow.pyfunc.load_model(uri)
        answers[uri] = model.predict(pd.DataFrame(request))
    import product_classifier
    answers["code"] = product_classifier.__file__
    print(json.dumps(answers))
    """
)


def test_logged_models_load_and_predict_in_a_fresh_process_without_the_package(
    trained, loaded, tmp_path
) -> None:
    from scripts import promote_model

    assert promote_model.main(["--name", "fusion", "--version", "1", "--alias", "production"]) == 0
    rows, paths = _rows(trained.dataset)
    request = _request(rows, paths, text=True, image=True)
    answers = run_fresh_python(
        FRESH_PROCESS,
        [trained.tracking_uri, request.to_json(orient="records")],
        tmp_path,
        isolated=True,
    )
    code = Path(answers.pop("code"))
    assert "datascience" not in code.parts  # loaded from the logged model's code
    for uri, kind in (
        ("models:/text/1", "text"),
        ("models:/image/1", "image"),
        ("models:/fusion@production", "fusion"),
    ):
        _assert_contract(answers[uri], len(rows))
        expected = loaded[kind].predict(request)
        assert np.allclose(_probabilities(answers[uri]), _probabilities(expected), atol=1e-4)


# --- resuming -------------------------------------------------------------------------------


def _interrupted_text_training(dataset: Path, output: Path):
    """Start a text training that dies in its second epoch; return its options."""
    import tensorflow as tf

    from product_classifier.training.pipeline import TrainingOptions, run_training
    from product_classifier.training.text_task import TextTask

    @dataclass(frozen=True)
    class CrashingTextTask(TextTask):
        """The text task whose training stops dead in the second epoch."""

        def prepare(self, data, files, batch_size):
            prepared = super().prepare(data, files, batch_size)
            batches = iter(range(1_000_000))

            def count(value):
                if next(batches) >= 1:  # the first batch of the second epoch
                    raise RuntimeError("simulated interruption")
                return value

            def crash(features, labels):
                checked = tf.py_function(count, [features], tf.float32)
                checked.set_shape(features.shape)
                return checked, labels

            return dataclasses.replace(prepared, train_transform=crash)

    options = TrainingOptions(
        input_dir=dataset,
        output_dir=output,
        batch_size=100_000,  # one batch per epoch
        epochs=3,
        train_patience=10,
        registered_model="text_resumed",
        verbose=0,
    )
    with pytest.raises(Exception):  # noqa: B017, PT011 - TensorFlow wraps the interruption
        run_training(CrashingTextTask(), options, {"case": "crash"})
    state = json.loads((output / "checkpoints" / "state.json").read_text())
    assert state["epoch"] == 0
    assert not state["completed"]
    return options


def test_an_interrupted_run_resumes_from_its_last_checkpoint(trained, tmp_path) -> None:
    from product_classifier.training.pipeline import run_training
    from product_classifier.training.text_task import TextTask

    output = tmp_path / "resumed"
    options = _interrupted_text_training(trained.dataset, output)
    interrupted_run = json.loads((output / "checkpoints" / "state.json").read_text())["run_id"]
    assert [
        path.name for path in (output / "checkpoints").iterdir() if "partial" in path.name
    ] == []

    result = run_training(TextTask(), options, {"case": "crash"})
    assert result.run_id == interrupted_run
    history = pd.read_csv(output / "history.csv")
    assert history["epoch"].tolist() == [0, 1, 2]
    steps = sorted(
        metric.step for metric in MlflowClient().get_metric_history(result.run_id, "val_accuracy")
    )
    assert steps == [0, 1, 2]
    assert json.loads((output / "checkpoints" / "state.json").read_text())["completed"]
    assert MlflowClient().get_run(result.run_id).info.status == "FINISHED"


@pytest.mark.parametrize("damage", ["truncated", "garbled"])
def test_a_damaged_checkpoint_starts_the_cli_over_in_one_line(
    trained, tmp_path, capsys, caplog, damage
) -> None:
    from scripts import train_text_model

    output = tmp_path / "damaged"
    _interrupted_text_training(trained.dataset, output)
    interrupted_run = json.loads((output / "checkpoints" / "state.json").read_text())["run_id"]
    last = output / "checkpoints" / "last.keras"
    whole = last.read_bytes()
    if damage == "truncated":  # what a kill during a non-atomic write left
        last.write_bytes(whole[: len(whole) // 2])
    else:  # a complete zip whose model cannot be rebuilt
        with zipfile.ZipFile(last, "w") as archive:
            archive.writestr("config.json", "not json")
    caplog.clear()
    argv = ["--input-dir", trained.dataset, "--output-dir", output, "--epochs", 1]
    argv += ["--registered-model", "text_resumed", "--no-refit"]
    assert run_main(train_text_model.main, argv) == 0
    warnings = [
        r.getMessage() for r in caplog.records if r.getMessage().startswith("Cannot resume")
    ]
    assert len(warnings) == 1, caplog.text
    assert warnings[0].endswith("starting the training over.")
    assert "Traceback" not in capsys.readouterr().err
    state = json.loads((output / "checkpoints" / "state.json").read_text())
    assert state["completed"]
    assert state["run_id"] != interrupted_run, "a new run, from epoch 1"
    assert pd.read_csv(output / "history.csv")["epoch"].tolist() == [0]


# --- errors a person can fix ----------------------------------------------------------------


def _text_cli(argv, capsys) -> tuple[int, str]:
    from scripts import train_text_model

    status = run_main(train_text_model.main, argv)
    return status, capsys.readouterr().err


def test_missing_input_dir_is_one_clear_line(tmp_path, capsys) -> None:
    status, error = _text_cli(
        ["--input-dir", tmp_path / "missing", "--output-dir", tmp_path / "out"], capsys
    )
    assert status == 1
    assert error.strip() == f"error: --input-dir {tmp_path / 'missing'} does not exist."


def test_malformed_input_dir_is_one_clear_line(tmp_path, capsys) -> None:
    folder = tmp_path / "not-a-dataset"
    folder.mkdir()
    (folder / "notes.txt").write_text("hello")
    status, error = _text_cli(["--input-dir", folder, "--output-dir", tmp_path / "out"], capsys)
    assert status == 1
    assert "is not a dataset folder made by create_datasets" in error
    assert "X_train.csv" in error
    assert len(error.strip().splitlines()) == 1


def test_empty_dataset_is_one_clear_line(tmp_path, capsys) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    for split in ("train", "test"):
        (folder / f"X_{split}.csv").write_text(",designation,description,productid,imageid\n")
        (folder / f"y_{split}.csv").write_text(",prdtypecode\n")
    status, error = _text_cli(["--input-dir", folder, "--output-dir", tmp_path / "out"], capsys)
    assert status == 1
    assert "empty" in error
    assert len(error.strip().splitlines()) == 1


def test_image_model_needs_images(trained, tmp_path, capsys) -> None:
    from scripts import train_image_model

    text_only = tmp_path / "text-only"
    text_only.mkdir()
    for name in ("X_train.csv", "y_train.csv", "X_test.csv", "y_test.csv"):
        (text_only / name).write_bytes((trained.dataset / name).read_bytes())
    argv = ["--input-dir", text_only, "--output-dir", tmp_path / "out", "--image-size", 32]
    assert run_main(train_image_model.main, argv) == 1
    assert "has no images/ folder" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("models:/nope/1", "Unknown registered model 'nope'"),
        ("models:/text@nope", "has no alias 'nope'"),
        ("models:/text/42", "has no version 42"),
        ("models:/image/1", "is not a model of kind text (its kind is image)"),
    ],
)
def test_fusion_reports_unknown_models_and_aliases_in_one_line(
    trained, tmp_path, capsys, uri, message
) -> None:
    from scripts import train_fusion_model

    argv = [
        "--input-dir",
        trained.dataset,
        "--output-dir",
        tmp_path / "out",
        "--text-model-uri",
        uri,
    ]
    assert run_main(train_fusion_model.main, argv) == 1
    error = capsys.readouterr().err
    assert message in error
    assert len(error.strip().splitlines()) == 1


def test_help_describes_every_argument(capsys) -> None:
    from scripts import promote_model, train_fusion_model, train_image_model, train_text_model

    expected = {
        train_text_model: [
            "--input-dir",
            "--output-dir",
            "--batch-size",
            "--train-patience",
            "--epochs",
            "--set-staging",
            "--registered-model",
            "--refit",
            "--no-refit",
        ],
        train_image_model: ["--no-data-augmentation", "--image-size", "--weights"],
        train_fusion_model: ["--text-model-uri", "--image-model-uri"],
        promote_model: [
            "--name",
            "--version",
            "--alias",
            "--list",
            "--gate",
            "--min-gain",
            "--min-rows",
        ],
    }
    for module, options in expected.items():
        with pytest.raises(SystemExit) as exit_info:
            module.main(["--help"])
        assert exit_info.value.code == 0
        text = capsys.readouterr().out
        for option in options:
            assert option in text
