"""The text model's linear ensemble: the MLP averaged with a LinearSVC, in one served Keras model.

A small model and LinearSVC are fitted here on random sparse rows: the ensemble must give the
mean of the two probability vectors, keep ``text_features`` for the fusion model, and answer the
same on Keras, on ONNX Runtime run whole and on the sparse first-layer path. The training CLI's
``--linear-ensemble`` then round-trips through MLflow (logged, loaded, served on both runtimes).
"""

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import scipy.sparse
from scipy.special import softmax
from sklearn.svm import LinearSVC

from product_classifier.categories import NUM_CATEGORIES
from product_classifier.data.dataset_folder import read_split
from product_classifier.models.text import (
    LINEAR_ENSEMBLE_TEMPERATURE,
    LINEAR_SCORES_LAYER,
    TEXT_FEATURES_LAYER,
    build_text_model,
    fit_linear_ensemble,
)
from product_classifier.serving.batch import ModelBatch
from product_classifier.serving.contract import ProductInput
from product_classifier.serving.features import TEXT_INPUT
from product_classifier.serving.runtime import Runtime
from tests.trained_models import load_served, run_main

pytestmark = pytest.mark.slow

_FEATURES = 80
_CLASSES = (0, 3, 7, 12, 26)  # not all 27: absent categories get no linear probability


def _rows(count: int, seed: int) -> scipy.sparse.csr_matrix:
    return scipy.sparse.random(
        count, _FEATURES, density=0.1, format="csr", random_state=seed, dtype=np.float32
    )


@pytest.fixture(scope="module")
def fitted() -> tuple[Any, Any, scipy.sparse.csr_matrix, npt.NDArray[np.int64]]:
    """A briefly trained MLP, its ensemble with a LinearSVC fitted on the same rows, the rows."""
    import keras

    keras.utils.set_random_seed(3)
    rows = _rows(60, seed=1)
    labels = np.array([_CLASSES[i % len(_CLASSES)] for i in range(60)], dtype=np.int64)
    model = build_text_model(_FEATURES, hidden_units=8)
    model.fit(rows.toarray(), labels, epochs=2, verbose=0)
    return model, fit_linear_ensemble(model, rows, labels), rows, labels


def test_the_ensemble_averages_the_mlp_with_the_scaled_svc_softmax(fitted) -> None:
    model, ensemble, rows, labels = fitted
    tests = _rows(7, seed=2).toarray()
    svc = LinearSVC(class_weight="balanced").fit(rows, labels)  # what the ensemble fitted
    linear = np.zeros((len(tests), NUM_CATEGORIES))
    linear[:, list(_CLASSES)] = softmax(
        LINEAR_ENSEMBLE_TEMPERATURE * svc.decision_function(tests), axis=1
    )
    expected = 0.5 * np.asarray(model.predict_on_batch(tests)) + 0.5 * linear
    np.testing.assert_allclose(np.asarray(ensemble.predict_on_batch(tests)), expected, atol=1e-5)
    # The SVC's weights are fixed in the graph; the MLP's layers are the trained ones.
    assert not ensemble.get_layer(LINEAR_SCORES_LAYER).trainable
    assert ensemble.get_layer(TEXT_FEATURES_LAYER) is model.get_layer(TEXT_FEATURES_LAYER)


def test_the_fusion_encoder_still_reads_the_mlp_hidden_layer(fitted) -> None:
    from product_classifier.models.fusion import feature_extractor

    model, ensemble, _, _ = fitted
    tests = _rows(5, seed=3).toarray()
    encoder = feature_extractor(ensemble, TEXT_FEATURES_LAYER, "text_encoder")
    hidden = feature_extractor(model, TEXT_FEATURES_LAYER, "text_encoder")
    np.testing.assert_allclose(
        np.asarray(encoder.predict_on_batch(tests)), np.asarray(hidden.predict_on_batch(tests))
    )
    assert encoder.output_shape == (None, 8)


def test_the_ensemble_serves_alike_on_keras_onnx_and_the_sparse_path(
    fitted, tmp_path: Path
) -> None:
    from product_classifier.serving.keras_runner import KerasRunner
    from product_classifier.serving.onnx_runner import OnnxRunner
    from product_classifier.training.onnx_export import export_onnx

    _, ensemble, _, _ = fitted
    tests = _rows(9, seed=4)
    expected = np.asarray(ensemble.predict_on_batch(tests.toarray()))
    ensemble.save(tmp_path / "text.keras")
    path = export_onnx(ensemble, tmp_path / "text.onnx")
    assert path is not None
    batch: ModelBatch = {TEXT_INPUT: tests}
    sparse = OnnxRunner(str(path), sparse_input=TEXT_INPUT)
    whole = OnnxRunner(str(path))
    keras_runner = KerasRunner(str(tmp_path / "text.keras"))
    # Both dense layers reading the TF-IDF row (MLP and SVC) come out of one sparse product.
    assert sparse.splits_first_layer
    assert sparse._split is not None
    assert sparse._split.weights.shape == (_FEATURES, 8 + NUM_CATEGORIES)
    assert len(sparse._split.products) == 2
    assert not whole.splits_first_layer
    for runner in (sparse, whole, keras_runner):
        np.testing.assert_allclose(runner(batch), expected, atol=1e-5)


@pytest.mark.timeout(1200)
def test_the_cli_option_is_logged_and_serves_through_mlflow(dataset, tmp_path: Path) -> None:
    from mlflow import MlflowClient

    from scripts import train_text_model

    name = "text-linear-ensemble"
    argv = ["--input-dir", dataset, "--output-dir", tmp_path, "--batch-size", 64]
    argv += ["--epochs", 2, "--linear-ensemble", "--registered-model", name]
    assert run_main(train_text_model.main, argv) == 0
    client = MlflowClient()
    version = client.get_model_version(name, "1")
    params = client.get_run(str(version.run_id)).data.params
    assert params["linear_ensemble"] == "True"
    assert params["text_linear_ensemble"] == "True"
    on_onnx = load_served(f"models:/{name}/1", "auto")
    on_keras = load_served(f"models:/{name}/1", "keras")
    assert on_onnx.runtime is Runtime.ONNX
    assert on_onnx.runner.splits_first_layer
    assert on_keras.runtime is Runtime.KERAS
    assert on_keras.runner.model.get_layer(LINEAR_SCORES_LAYER) is not None
    rows, _ = read_split(dataset, "test")
    products = [
        ProductInput(designation=str(title), description=str(text))
        for title, text in zip(rows["designation"], rows["description"], strict=True)
    ]
    onnx_answers = on_onnx.predict_probabilities(products)
    assert np.abs(onnx_answers - on_keras.predict_probabilities(products)).max() <= 1e-5
    np.testing.assert_allclose(onnx_answers.sum(axis=1), 1.0, atol=1e-5)
