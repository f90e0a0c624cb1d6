"""Unit tests of the training building blocks: splits, inputs, model builders, checkpoints state."""

import logging
import zipfile
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from mlflow.exceptions import MlflowException
from PIL import Image

from product_classifier.categories import NUM_CATEGORIES
from product_classifier.models.fusion import (
    IMAGE_EMBEDDING,
    TEXT_EMBEDDING,
    build_fusion_head,
    build_fusion_model,
    feature_extractor,
    modality_dropout,
)
from product_classifier.models.image import (
    BACKBONE_LAYER,
    FINE_TUNE_PHASE,
    FULL_PHASE,
    HEAD_PHASE,
    IMAGE_FEATURES_LAYER,
    WeightsError,
    build_backbone,
    build_image_model,
    download_failure_reason,
    image_training_phases,
    phase_names,
)
from product_classifier.serving.features import (
    IMAGE_INPUT,
    IMAGE_PRESENT,
    TEXT_INPUT,
    TEXT_PRESENT,
    image_batch,
)
from product_classifier.training import pipeline
from product_classifier.training.callbacks import save_atomically
from product_classifier.training.checkpoints import (
    RunFiles,
    TrainingState,
    dataset_digest,
    resumable_state,
)
from product_classifier.training.inputs import (
    ImagePaths,
    ModelInputs,
    balanced_class_weights,
    concatenate,
    encode_labels,
    make_dataset,
)
from product_classifier.training.runner import refit_phases
from product_classifier.training.split_data import validation_positions
from scripts import train_image_model, train_text_model


def test_validation_split_is_stratified_seeded_and_keeps_single_rows_in_fit() -> None:
    codes = pd.Series([10] * 20 + [40] * 7 + [50] * 2 + [60] * 1)
    fit, validation = validation_positions(codes, fraction=0.15, seed=1)
    assert set(fit).isdisjoint(validation)
    assert sorted([*fit, *validation]) == list(range(len(codes)))
    held_out = codes.iloc[validation].value_counts().to_dict()
    assert held_out == {10: 3, 40: 1, 50: 1}  # round(0.15 x 20), at least one, never all
    assert 29 in fit  # the single row of category 60 is never held out
    again_fit, again_validation = validation_positions(codes, fraction=0.15, seed=1)
    assert np.array_equal(validation, again_validation)
    assert np.array_equal(fit, again_fit)


def test_make_dataset_densifies_sparse_text_and_reads_images(tmp_path) -> None:
    image_path = tmp_path / "red.jpg"
    Image.new("RGB", (40, 20), (200, 0, 0)).save(image_path)
    matrix = sp.csr_matrix(np.array([[0.0, 1.0, 0.0], [2.0, 0.0, 3.0]], dtype=np.float32))
    inputs = ModelInputs({TEXT_INPUT: matrix, IMAGE_INPUT: ImagePaths((str(image_path), ""), 16)})
    labels = encode_labels(np.array([0, 5], dtype=np.int32), one_hot=False)
    features, batch_labels = next(iter(make_dataset(inputs, labels, batch_size=8)))
    assert np.allclose(features[TEXT_INPUT].numpy(), matrix.toarray())
    images = features[IMAGE_INPUT].numpy()
    assert images.shape == (2, 16, 16, 3)
    # The training reader gives what the serving code gives for the same image.
    served = image_batch([Image.open(image_path), None], 16)
    assert np.array_equal(images, served)
    assert batch_labels.numpy().tolist() == [0, 5]


def test_single_input_datasets_yield_bare_tensors_and_one_hot_labels() -> None:
    inputs = ModelInputs({TEXT_INPUT: np.ones((3, 4), dtype=np.float32)})
    labels = encode_labels(np.array([1, 2, 3], dtype=np.int32), one_hot=True)
    features, batch_labels = next(iter(make_dataset(inputs, labels, batch_size=2)))
    assert features.shape == (2, 4)
    assert batch_labels.shape == (2, NUM_CATEGORIES)


def test_concatenate_stacks_every_column_kind() -> None:
    part = ModelInputs(
        {
            "dense": np.zeros((2, 1), dtype=np.float32),
            "sparse": sp.csr_matrix(np.eye(2, dtype=np.float32)),
            "images": ImagePaths(("a.jpg", ""), 32),
        }
    )
    stacked = concatenate([part, part])
    assert len(stacked) == 4
    assert stacked.columns["sparse"].shape == (4, 2)
    assert stacked.columns["images"].paths == ("a.jpg", "", "a.jpg", "")
    with pytest.raises(ValueError, match="differ in length"):
        ModelInputs({"a": np.zeros(2), "b": np.zeros(3)})


def test_image_model_layers_and_phases_follow_the_weights() -> None:
    backbone = build_backbone(32, "none")
    assert not backbone.pretrained
    assert phase_names(backbone) == [FULL_PHASE]
    model = build_image_model(32, backbone, augmentation=True)
    assert model.get_layer(IMAGE_FEATURES_LAYER).output.shape[-1] == 1280
    assert model.outputs[0].shape[-1] == NUM_CATEGORIES
    setups = image_training_phases()
    setups[HEAD_PHASE](model)
    assert not model.get_layer(BACKBONE_LAYER).trainable
    setups[FINE_TUNE_PHASE](model)
    assert model.get_layer(BACKBONE_LAYER).trainable
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-5)


def test_backbone_loads_a_local_weights_file(tmp_path) -> None:
    source = build_backbone(32, "none")
    path = tmp_path / "backbone.weights.h5"
    source.model.save_weights(path)
    loaded = build_backbone(32, str(path))
    assert loaded.pretrained
    assert phase_names(loaded) == [HEAD_PHASE, FINE_TUNE_PHASE]
    for expected, actual in zip(
        source.model.get_weights(), loaded.model.get_weights(), strict=True
    ):
        assert np.array_equal(expected, actual)
    with pytest.raises(WeightsError, match="neither"):
        build_backbone(32, str(tmp_path / "missing.weights.h5"))


def test_imagenet_weights_fall_back_to_random_with_one_warning(caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="product_classifier.models.image"):
        backbone = build_backbone(32, "imagenet")
    if backbone.pretrained:  # a machine with internet access downloaded them
        assert backbone.weights == "imagenet"
        return
    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert "continuing from random weights" in message
    assert "(--weights PATH loads a local weights file)." in message
    assert backbone.weights == "none"


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "URL fetch failure on https://example.org/w.h5: None -- [Errno -2] Name or service "
            "not known",
            "[Errno -2] Name or service not known",
        ),
        ("connection refused", "connection refused"),
        ("word " * 60, ("word " * 32).strip() + "..."),
    ],
)
def test_download_failure_reason_keeps_whole_words(message, expected) -> None:
    assert download_failure_reason(Exception(message)) == expected


def _tiny_encoders() -> tuple[Any, Any]:
    import keras

    text_in = keras.Input((5,), name=TEXT_INPUT)
    text_out = keras.layers.Dense(NUM_CATEGORIES, activation="softmax")(
        keras.layers.Dense(4, activation="relu", name="text_features")(text_in)
    )
    image_in = keras.Input((32, 32, 3), name=IMAGE_INPUT)
    image_out = keras.layers.Dense(NUM_CATEGORIES, activation="softmax")(
        keras.layers.GlobalAveragePooling2D(name=IMAGE_FEATURES_LAYER)(image_in)
    )
    text_model = keras.Model(text_in, text_out)
    image_model = keras.Model(image_in, image_out)
    return (
        feature_extractor(text_model, "text_features", "text_encoder"),
        feature_extractor(image_model, IMAGE_FEATURES_LAYER, "image_encoder"),
    )


def test_fusion_gates_a_missing_modality_off() -> None:
    text_encoder, image_encoder = _tiny_encoders()
    head = build_fusion_head(4, 3)
    fusion = build_fusion_model(text_encoder, image_encoder, head)
    rng = np.random.default_rng(0)
    text = rng.random((2, 5)).astype(np.float32)
    image = rng.random((2, 32, 32, 3)).astype(np.float32) * 255
    no_image = {
        TEXT_INPUT: text,
        IMAGE_INPUT: image,
        TEXT_PRESENT: np.ones((2, 1), np.float32),
        IMAGE_PRESENT: np.zeros((2, 1), np.float32),
    }
    other_image = dict(no_image, **{IMAGE_INPUT: np.zeros_like(image)})
    # With the image flag at 0 the image content cannot change the answer.
    assert np.allclose(fusion.predict_on_batch(no_image), fusion.predict_on_batch(other_image))
    with_image = dict(no_image, **{IMAGE_PRESENT: np.ones((2, 1), np.float32)})
    assert not np.allclose(fusion.predict_on_batch(no_image), fusion.predict_on_batch(with_image))
    assert not text_encoder.trainable
    assert not image_encoder.trainable


def test_modality_dropout_hides_at_most_one_modality() -> None:
    import tensorflow as tf

    rows = 4000
    text_present = np.ones((rows, 1), np.float32)
    image_present = np.ones((rows, 1), np.float32)
    image_present[:1000] = 0.0  # rows without image keep their text
    features = {
        TEXT_EMBEDDING: tf.zeros((rows, 2)),
        IMAGE_EMBEDDING: tf.zeros((rows, 2)),
        TEXT_PRESENT: tf.constant(text_present),
        IMAGE_PRESENT: tf.constant(image_present),
    }
    dropped, _ = modality_dropout(0.25, 0.25)(features, tf.zeros(rows))
    text = dropped[TEXT_PRESENT].numpy().ravel()
    image = dropped[IMAGE_PRESENT].numpy().ravel()
    assert np.all(text + image >= 1)
    assert np.all(text[:1000] == 1)
    assert 0.2 < 1 - text[1000:].mean() < 0.3
    assert 0.2 < 1 - image[1000:].mean() < 0.3


def test_resumable_state_only_for_an_unfinished_run_of_the_same_kind_and_data(tmp_path) -> None:
    files = RunFiles(tmp_path / "out")
    dataset = tmp_path / "dataset"
    assert resumable_state(files, "text", dataset) is None
    state = TrainingState("text", str(dataset.resolve()), "run-1", phases=["train"], epoch=3)
    state.save(files.state)
    assert resumable_state(files, "text", dataset) is None  # no checkpoint yet
    _write_zip(files.last_checkpoint)
    resumed = resumable_state(files, "text", dataset)
    assert resumed is not None
    assert resumed.epoch == 3
    assert resumable_state(files, "image", dataset) is None
    assert resumable_state(files, "text", tmp_path / "other") is None
    state.completed = True
    state.save(files.state)
    assert resumable_state(files, "text", dataset) is None
    files.clear()
    assert not files.checkpoint_dir.exists()


def test_a_run_resumes_only_on_the_rows_it_started_on(tmp_path, caplog) -> None:
    """A dataset made again at the same path (other rows, other vocabulary) starts a new run."""
    dataset = tmp_path / "dataset"
    dataset.mkdir()
    for name in ("X_train.csv", "y_train.csv", "X_test.csv", "y_test.csv"):
        (dataset / name).write_text(f"{name}\n1\n")
    files = RunFiles(tmp_path / "out")
    started_on = dataset_digest(dataset)
    state = TrainingState("text", str(dataset.resolve()), "run-1", phases=["train"], epoch=1)
    state.dataset_digest = started_on
    state.save(files.state)
    _write_zip(files.last_checkpoint)
    assert resumable_state(files, "text", dataset, digest=started_on) is not None
    (dataset / "y_train.csv").write_text("y_train.csv\n2\n")  # made again from other rows
    assert dataset_digest(dataset) != started_on
    assert resumable_state(files, "text", dataset, digest=dataset_digest(dataset)) is None
    assert "other rows of" in caplog.text


def _write_zip(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", "{}" * 500)


def test_a_truncated_checkpoint_starts_the_run_over_with_one_warning(tmp_path, caplog) -> None:
    files = RunFiles(tmp_path / "out")
    dataset = tmp_path / "dataset"
    TrainingState("text", str(dataset.resolve()), "run-1", phases=["train"], epoch=3).save(
        files.state
    )
    _write_zip(files.last_checkpoint)
    whole = files.last_checkpoint.read_bytes()
    files.last_checkpoint.write_bytes(whole[: len(whole) // 2])  # killed while writing
    with caplog.at_level(logging.WARNING):
        assert resumable_state(files, "text", dataset) is None
    warnings = [record.getMessage() for record in caplog.records]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"Cannot resume from {files.last_checkpoint} (")
    assert warnings[0].endswith("starting the training over.")


def test_an_unreadable_state_file_starts_the_run_over_with_one_warning(tmp_path, caplog) -> None:
    files = RunFiles(tmp_path / "out")
    _write_zip(files.last_checkpoint)
    files.state.write_text('{"kind": "text", "epoch": ')  # cut while written by another tool
    with caplog.at_level(logging.WARNING):
        assert resumable_state(files, "text", tmp_path / "dataset") is None
    (warning,) = [record.getMessage() for record in caplog.records]
    assert warning.startswith(f"Cannot resume from {files.state} (unreadable")


class _FailingModel:
    """Writes half a file, then fails, as a save interrupted by a full disk or a signal."""

    def save(self, path: Path, overwrite: bool = True) -> None:
        del overwrite
        Path(path).write_bytes(b"PK half a file")
        raise OSError("No space left on device")


def test_checkpoints_are_replaced_atomically(tmp_path) -> None:
    target = tmp_path / "last.keras"
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    save_atomically(model, target)
    saved = target.read_bytes()
    assert zipfile.is_zipfile(target)
    assert keras.saving.load_model(target).count_params() == model.count_params()
    with pytest.raises(OSError, match="No space"):
        save_atomically(_FailingModel(), target)
    assert target.read_bytes() == saved, "an interrupted save keeps the previous checkpoint"
    assert [path.name for path in tmp_path.iterdir()] == ["last.keras"], "no partial file left"


def test_refit_trains_each_phase_for_its_best_epochs_and_skips_phases_that_never_improved() -> None:
    import keras
    import tensorflow as tf

    inputs = keras.Input(shape=(4,))
    model = keras.Model(inputs, keras.layers.Dense(NUM_CATEGORIES, activation="softmax")(inputs))
    set_up: list[tuple[str, int]] = []

    def setup(name: str) -> Any:
        def compile_for_phase(model: Any) -> None:
            # The phase name and the steps the previous phase took.
            optimizer = getattr(model, "optimizer", None)
            previous = 0 if optimizer is None else int(optimizer.iterations)
            set_up.append((name, previous))
            model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")

        return compile_for_phase

    state = TrainingState("image", "/data", "run", phases=["head", "fine_tune", "last"])
    state.best_epochs = {"head": 3, "last": 2}
    rows = tf.data.Dataset.from_tensor_slices(
        (np.zeros((8, 4), np.float32), np.zeros(8, np.int32))
    ).batch(8)  # one step per epoch
    refitted = refit_phases(
        model,
        state,
        setups={name: setup(name) for name in state.phases},
        train=rows,
        verbose=0,
    )
    assert set_up == [("head", 0), ("last", 3)]
    assert int(refitted.optimizer.iterations) == 2  # the last phase's fresh optimizer: 2 epochs


def test_balanced_class_weights_make_every_class_count_the_same() -> None:
    labels = np.array([0] * 6 + [3] * 2 + [26] * 1, dtype=np.int32)
    weights = balanced_class_weights(labels)
    assert set(weights) == {0, 3, 26}
    totals = {label: weights[label] * int((labels == label).sum()) for label in weights}
    assert totals[0] == pytest.approx(totals[3]) == pytest.approx(totals[26])
    assert weights[26] > weights[3] > weights[0]


def test_mlflow_failing_mid_run_is_one_line_saying_how_to_resume(tmp_path, monkeypatch, capsys):
    def server_gone(*args: object) -> None:
        del args
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except ConnectionRefusedError as cause:
            message = "API request to http://127.0.0.1:5000/api/2.0/mlflow/runs/get failed"
            raise MlflowException(f"{message}\nHTTPConnectionPool(...)") from cause

    monkeypatch.setattr(pipeline, "run_training", server_gone)
    output = tmp_path / "out"
    status = train_text_model.main(["--input-dir", str(tmp_path), "--output-dir", str(output)])
    assert status == 1
    (line,) = capsys.readouterr().err.strip().splitlines()  # no chained tracebacks
    assert line.startswith("error: MLflow failed while the run was logged: API request to")
    assert f"The checkpoints are kept in {output}" in line


@pytest.mark.parametrize("kind", ["text", "image"])
def test_ctrl_c_during_training_is_one_line_saying_how_to_resume(
    kind, tmp_path, monkeypatch, capsys
) -> None:
    def stopped(*args: object) -> None:
        del args
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "run_training", stopped)
    cli = train_text_model if kind == "text" else train_image_model
    status = cli.main(["--input-dir", str(tmp_path), "--output-dir", str(tmp_path / "out")])
    assert status == 130
    assert capsys.readouterr().err.strip() == (
        "Interrupted: run the same command again to resume from the last checkpoint."
    )
