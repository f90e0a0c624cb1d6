"""The ONNX export of every model: logged beside the Keras file, same answers, no TensorFlow.

Uses the session's text, image and fusion models (trained with the real CLIs, see
``trained_models.py``): each is loaded on ONNX Runtime and on Keras and both must give the same
probabilities; a fresh process serving the ONNX export must never import TensorFlow or Keras.
"""

import textwrap
from pathlib import Path

import mlflow
import numpy as np
import onnx
import pandas as pd
import pytest
from PIL import Image

from product_classifier.data.dataset_folder import image_paths, read_split
from product_classifier.models.text import build_text_featurizer
from product_classifier.serving.contract import ProductInput
from product_classifier.serving.fast_tfidf import FastTfidf
from product_classifier.serving.features import product_documents, text_matrix
from product_classifier.serving.logged_model import load_logged_model
from product_classifier.serving.pyfunc import (
    FEATURIZER_ARTIFACT,
    MODEL_ARTIFACT,
    ONNX_ARTIFACT,
    TFIDF_TABLES_ARTIFACT,
    ProductClassifier,
)
from product_classifier.serving.runtime import (
    RUNTIME_VARIABLE,
    Runtime,
    requested_runtime,
    resolve_runtime,
)
from product_classifier.training.onnx_export import export_onnx
from tests.fresh_process import run_fresh_python
from tests.trained_models import load_served

# The session fixture trains three models first: minutes on a busy 2-core machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]

KINDS = ("text", "image", "fusion")


@pytest.fixture(scope="module")
def by_runtime(trained) -> dict[str, dict[str, ProductClassifier]]:
    return {
        runtime: {kind: load_served(f"models:/{kind}/1", runtime) for kind in KINDS}
        for runtime in ("auto", "keras")
    }


def _products(dataset: Path) -> list[ProductInput]:
    """Every test row of the dataset, as text and image, text only and image only."""
    rows, _ = read_split(dataset, "test")
    paths = image_paths(dataset, rows)
    both = [
        ProductInput(
            designation=str(designation),
            description=str(description),
            image=Image.open(path).convert("RGB") if path.is_file() else None,
        )
        for designation, description, path in zip(
            rows["designation"], rows["description"], paths, strict=True
        )
    ]
    text_only = [ProductInput(item.designation, item.description) for item in both]
    image_only = [ProductInput(image=item.image) for item in both if item.image is not None]
    return both + text_only + image_only


def test_every_model_carries_its_onnx_export_and_serves_it_by_default(by_runtime) -> None:
    for kind, model in by_runtime["auto"].items():
        assert ONNX_ARTIFACT in model.artifact_paths, kind
        assert model.runtime is Runtime.ONNX, kind
    for model in by_runtime["keras"].values():
        assert model.runtime is Runtime.KERAS
    # The text input's first layer runs as a sparse product wherever the model reads text.
    assert by_runtime["auto"]["text"].runner.splits_first_layer
    assert by_runtime["auto"]["fusion"].runner.splits_first_layer
    # The fusion model's image encoder runs apart, on the rows that have an image only.
    runner = by_runtime["auto"]["fusion"].runner
    encoder = runner.image_encoder
    assert encoder is not None
    assert [value.name for value in encoder._session.get_inputs()] == [encoder.image_input]
    remaining_inputs = [value.name for value in runner._session.get_inputs()]
    assert encoder.image_input not in remaining_inputs
    assert encoder.features in remaining_inputs
    for kind in ("text", "image"):  # nothing to skip: no image input, or nothing else
        assert by_runtime["auto"][kind].runner.image_encoder is None, kind


def test_onnx_and_keras_give_the_same_probabilities(trained, by_runtime) -> None:
    products = _products(trained.dataset)
    for kind in KINDS:
        onnx_answers = by_runtime["auto"][kind].predict_probabilities(products)
        keras_answers = by_runtime["keras"][kind].predict_probabilities(products)
        assert onnx_answers.shape == (len(products), 27)
        assert np.abs(onnx_answers - keras_answers).max() <= 1e-5, kind
        # One row at a time (the API's usual batch) answers as the whole batch does.
        single = by_runtime["auto"][kind].predict_probabilities(products[:1])
        assert np.abs(single - onnx_answers[:1]).max() <= 1e-6, kind


def test_the_first_layer_weights_are_held_once(by_runtime) -> None:
    for kind in ("text", "fusion"):
        split = by_runtime["auto"][kind].runner._split
        assert split.weights.dtype == np.float32, kind
        # The graph ONNX Runtime runs no longer carries them.
        remaining = onnx.load_model_from_string(split.remaining)
        shapes = [tuple(tensor.dims) for tensor in remaining.graph.initializer]
        assert split.weights.shape not in shapes, kind
        exported = Path(by_runtime["auto"][kind].artifact_paths[ONNX_ARTIFACT]).stat().st_size
        assert exported - len(split.remaining) >= 0.9 * split.weights.nbytes, kind


def test_models_reading_text_serve_from_their_tfidf_tables(by_runtime) -> None:
    for kind in ("text", "fusion"):
        model = by_runtime["auto"][kind]
        assert TFIDF_TABLES_ARTIFACT in model.artifact_paths, kind
        assert model._featurizer is None, kind  # the pickle is not read on ONNX
    assert TFIDF_TABLES_ARTIFACT not in by_runtime["auto"]["image"].artifact_paths


def test_a_model_without_tfidf_tables_serves_from_its_pickle(trained, by_runtime) -> None:
    artifacts = by_runtime["auto"]["text"].artifact_paths
    del artifacts[TFIDF_TABLES_ARTIFACT]
    model = ProductClassifier()
    model.load_artifacts(artifacts)
    assert model.featurizer is not None
    products = _products(trained.dataset)
    expected = by_runtime["auto"]["text"].predict_probabilities(products)
    assert np.abs(model.predict_probabilities(products) - expected).max() <= 1e-6


def test_loading_from_the_artifacts_answers_as_pyfunc_without_the_keras_file(
    trained, by_runtime, monkeypatch
) -> None:
    monkeypatch.delenv(RUNTIME_VARIABLE, raising=False)
    products = _products(trained.dataset)
    for kind in KINDS:
        loaded = load_logged_model(f"models:/{kind}/1")
        assert isinstance(loaded.predictor, ProductClassifier)
        assert loaded.predictor.runtime is Runtime.ONNX
        assert MODEL_ARTIFACT not in loaded.predictor.artifact_paths
        assert loaded.run_id == mlflow.models.get_model_info(f"models:/{kind}/1").run_id
        expected = by_runtime["keras"][kind].predict_probabilities(products)
        got = loaded.predictor.predict_probabilities(products)
        assert np.abs(got - expected).max() <= 1e-5, kind
    monkeypatch.setenv(RUNTIME_VARIABLE, "keras")
    on_keras = load_logged_model("models:/text/1").predictor
    assert on_keras.runtime is Runtime.KERAS
    assert {MODEL_ARTIFACT, FEATURIZER_ARTIFACT} <= set(on_keras.artifact_paths)


def test_a_model_without_onnx_export_serves_with_keras(by_runtime) -> None:
    artifacts = by_runtime["auto"]["text"].artifact_paths
    del artifacts[ONNX_ARTIFACT]
    model = ProductClassifier()
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(RUNTIME_VARIABLE, raising=False)
        model.load_artifacts(artifacts)
        assert model.runtime is Runtime.KERAS
        patch.setenv(RUNTIME_VARIABLE, "onnx")
        with pytest.raises(ValueError, match="no ONNX export"):
            ProductClassifier().load_artifacts(artifacts)


def test_the_runtime_setting_accepts_only_known_runtimes(monkeypatch) -> None:
    monkeypatch.setenv(RUNTIME_VARIABLE, " ONNX ")
    assert requested_runtime() is Runtime.ONNX
    monkeypatch.setenv(RUNTIME_VARIABLE, "")
    assert requested_runtime() is Runtime.AUTO
    monkeypatch.setenv(RUNTIME_VARIABLE, "tensorrt")
    with pytest.raises(ValueError, match="MODEL_RUNTIME='tensorrt' is not one of auto, onnx"):
        requested_runtime()
    assert resolve_runtime(Runtime.AUTO, has_onnx_export=False) is Runtime.KERAS
    assert resolve_runtime(Runtime.KERAS, has_onnx_export=True) is Runtime.KERAS


def test_a_failed_export_is_a_warning_and_no_file(trained, tmp_path, caplog) -> None:
    import keras

    model = keras.saving.load_model(trained.output / "text" / "model.keras", compile=False)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    target = blocker / "model.onnx"
    assert export_onnx(model, target) is None
    assert not target.exists()
    assert "served with Keras" in caplog.text


@pytest.mark.parametrize("title_features", [False, True])
def test_fast_featurizer_equals_scikit_learn(trained, title_features: bool) -> None:
    rows, _ = read_split(trained.dataset, "train")
    documents = product_documents(rows["designation"].tolist(), rows["description"].tolist())
    documents += ["", "   ", "<p>&amp;eacute; PS4 — 240 x 320 cm² élégant</p>"]
    featurizer = build_text_featurizer(
        word_max_features=500, char_max_features=2000, title_features=title_features
    )
    featurizer.fit(documents)
    fast = FastTfidf.from_featurizer(featurizer)
    assert fast is not None
    expected = text_matrix(featurizer, documents).toarray()
    for _ in range(2):  # the second pass reads the per-word cache
        assert np.abs(fast.transform(documents).toarray() - expected).max() <= 1e-6
    one = fast.transform(documents[:1])
    assert one.shape == (1, expected.shape[1])
    assert FastTfidf.from_featurizer(object()) is None


FRESH_PROCESS = textwrap.dedent(
    """
    import json, sys
    import mlflow
    import pandas as pd

    tracking_uri, request = sys.argv[1], json.loads(sys.argv[2])
    mlflow.set_tracking_uri(tracking_uri)
    answers = {}
    for kind in ("text", "fusion"):
        model = mlflow.pyfunc.load_model(f"models:/{kind}/1")
        answers[kind] = {
            "predictions": model.predict(pd.DataFrame(request)),
            "runtime": str(model.unwrap_python_model().runtime),
        }
    answers["modules"] = sorted(
        name
        for name in sys.modules
        if name.split(".")[0] in ("tensorflow", "keras", "tf2onnx", "sklearn")
    )
    print(json.dumps(answers))
    """
)


def test_a_process_serving_the_onnx_export_never_imports_tensorflow(
    trained, by_runtime, tmp_path
) -> None:
    rows, _ = read_split(trained.dataset, "test")
    rows = rows.head(3)
    request = pd.DataFrame(
        {
            "designation": rows["designation"].tolist(),
            "description": rows["description"].tolist(),
            "image_path": [str(path) for path in image_paths(trained.dataset, rows)],
        }
    )
    answers = run_fresh_python(
        FRESH_PROCESS, [trained.tracking_uri, request.to_json(orient="records")], tmp_path
    )
    assert answers["modules"] == []
    for kind in ("text", "fusion"):
        assert answers[kind]["runtime"] == "onnx"
        served = answers[kind]["predictions"]
        expected = by_runtime["keras"][kind].predict(None, request)
        for got, want in zip(served, expected, strict=True):
            got_values = {item["category_id"]: item["probabilities"] for item in got}
            for item in want:
                # Percent: 1e-3 is 1e-5 of probability.
                assert abs(got_values[item["category_id"]] - item["probabilities"]) <= 1e-3
