"""The image encoder cut off a graph: run on the rows with an image, once per call, or not cut."""

from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from product_classifier.serving.features import IMAGE_INPUT
from product_classifier.serving.image_encoder_split import (
    EncodeImages,
    image_features,
    rows_with_image,
)
from product_classifier.serving.onnx_runner import OnnxRunner


def _encode_counting(calls: list[int]) -> EncodeImages:
    """An encoder whose features are the pixel sum plus one; it records each call's rows."""

    def encode(images: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        calls.append(len(images))
        sums = images.reshape(len(images), -1).sum(axis=1, keepdims=True) + 1.0
        return np.asarray(sums, dtype=np.float32)

    return encode


def test_rows_without_image_take_the_blank_features_and_skip_the_encoder() -> None:
    images = np.zeros((4, 2, 2, 3), dtype=np.float32)
    images[1] = 0.5
    images[3, 0, 0, 0] = 1.0
    blank = np.array([[-7.0]], dtype=np.float32)
    calls: list[int] = []

    features = image_features(images, blank, _encode_counting(calls))

    assert rows_with_image(images).tolist() == [False, True, False, True]
    assert calls == [2]  # one call, on the two rows with an image
    assert features.tolist() == [[-7.0], [7.0], [-7.0], [2.0]]


def test_a_batch_without_any_image_never_calls_the_encoder() -> None:
    calls: list[int] = []
    blank = np.array([[0.25, 0.5]], dtype=np.float32)

    features = image_features(np.zeros((3, 2, 2, 3), np.float32), blank, _encode_counting(calls))

    assert calls == []
    assert features.shape == (3, 2)
    assert (features == blank).all()


def _save(tmp_path: Path, nodes: list[onnx.NodeProto], weights: list[onnx.TensorProto]) -> str:
    """A model of ``image_input`` (n, 2, 2, 3) and ``other`` (n, 1) to ``output`` (n, 1)."""
    graph = helper.make_graph(
        nodes,
        "tiny",
        [
            helper.make_tensor_value_info(IMAGE_INPUT, TensorProto.FLOAT, ["n", 2, 2, 3]),
            helper.make_tensor_value_info("other", TensorProto.FLOAT, ["n", 1]),
        ],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["n", 1])],
        weights,
    )
    path = tmp_path / "tiny.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return str(path)


def _batch() -> dict[str, np.ndarray]:
    images = np.zeros((3, 2, 2, 3), dtype=np.float32)
    images[1] = np.arange(12, dtype=np.float32).reshape(2, 2, 3)
    return {IMAGE_INPUT: images, "other": np.array([[1.0], [2.0], [3.0]], np.float32)}


def test_the_runner_answers_as_the_whole_graph_with_the_encoder_cut_off(tmp_path: Path) -> None:
    weights = numpy_helper.from_array(np.arange(12, dtype=np.float32).reshape(12, 1), "w")
    nodes = [
        helper.make_node("Flatten", [IMAGE_INPUT], ["flat"]),
        helper.make_node("MatMul", ["flat", "w"], ["features"]),
        helper.make_node("Relu", ["features"], ["shown"]),
        helper.make_node("Add", ["shown", "other"], ["output"]),
    ]
    path = _save(tmp_path, nodes, [weights])
    runner = OnnxRunner(path)
    whole = ort.InferenceSession(path, providers=["CPUExecutionProvider"])

    assert runner.image_encoder is not None
    assert runner.image_encoder.features == "shown"  # the last node reading the image alone
    np.testing.assert_allclose(runner(_batch()), whole.run(None, _batch())[0])


def test_a_graph_that_cannot_be_cut_runs_whole(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The image alone gives the batch's shape, not one row of features per image.
    nodes = [
        helper.make_node("Shape", [IMAGE_INPUT], ["shape"]),
        helper.make_node("Cast", ["shape"], ["sizes"], to=TensorProto.FLOAT),
        helper.make_node("ReduceSum", ["sizes"], ["total"], keepdims=1),
        helper.make_node("Add", ["other", "total"], ["output"]),
    ]
    path = _save(tmp_path, nodes, [])
    runner = OnnxRunner(path)
    whole = ort.InferenceSession(path, providers=["CPUExecutionProvider"])

    assert runner.image_encoder is None
    assert "could not be cut" in caplog.text
    np.testing.assert_allclose(runner(_batch()), whole.run(None, _batch())[0])
