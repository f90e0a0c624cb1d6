"""Split a fusion model's ONNX graph after its image encoder, to skip the encoder without image.

The fusion model runs its image tower (MobileNetV2) on every row, a blank image included, and
multiplies the tower's features by the image presence flag. For a text-only request that is
most of the call's work, spent on an answer that is always the same: the features of the blank
(all-zero) image. This module finds the part of the exported graph that reads the image input
alone, cuts it off where its single output enters the rest of the graph, and returns both
parts: the runner computes the blank image's features once, runs the encoder only on the rows
that have an image, and feeds the rest of the graph with both.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import onnx
import onnx.utils
import onnxruntime as ort
from onnx import helper

from product_classifier.serving.batch import dense

EncodeImages: TypeAlias = Callable[[npt.NDArray[np.float32]], npt.NDArray[np.float32]]
"""Runs the image encoder on ``(m, size, size, 3)`` images."""


@dataclass(frozen=True)
class ImageEncoderSplit:
    """An ONNX model cut after the nodes that read its image input alone.

    Attributes:
        image_input: Name of the image input, ``(n, size, size, 3)`` float32.
        features: Name of the tensor the encoder hands to the rest of the graph.
        encoder: The serialised graph from ``image_input`` to ``features``.
        remaining: The serialised graph from the model's other inputs and ``features`` to its
            outputs.
        image_shape: ``(size, size, 3)``: the shape of one image.
    """

    image_input: str
    features: str
    encoder: bytes
    remaining: bytes
    image_shape: tuple[int, ...]


def split_image_encoder(model: onnx.ModelProto, image_input: str) -> ImageEncoderSplit | None:
    """Cut ``model`` where the subgraph reading only ``image_input`` hands over its output.

    Args:
        model: An ONNX model, e.g. the fusion model exported by Keras (its first sparse layer
            may already be split off, see :mod:`~product_classifier.serving.sparse_first_layer`).
        image_input: Name of the graph input holding the images.

    Returns:
        The two parts, or ``None`` when there is nothing to skip: no such input, no other
        input (an image model), an image shape that is not fixed, or an encoder that hands
        over more than one tensor or the model's output itself.
    """
    graph = model.graph
    shape = _fixed_item_shape(model, image_input)
    other_inputs = [value.name for value in graph.input if value.name != image_input]
    if shape is None or not other_inputs:
        return None
    constants = {tensor.name for tensor in graph.initializer}
    image_only = {image_input}
    for node in graph.node:  # ONNX nodes are in topological order
        read = [name for name in node.input if name]
        if all(name in constants for name in read):
            constants.update(node.output)
        elif all(name in image_only or name in constants for name in read):
            image_only.update(node.output)
    handed_over = {
        name
        for node in graph.node
        if not image_only.issuperset(node.output)
        for name in node.input
        if name in image_only
    }
    outputs = [value.name for value in graph.output]
    if len(handed_over) != 1 or image_only.intersection(outputs) or image_input in handed_over:
        return None
    (features,) = handed_over
    extractor = onnx.utils.Extractor(_declaring(model, features))
    encoder = extractor.extract_model([image_input], [features])
    remaining = extractor.extract_model([*other_inputs, features], outputs)
    return ImageEncoderSplit(
        image_input=image_input,
        features=features,
        encoder=encoder.SerializeToString(),
        remaining=remaining.SerializeToString(),
        image_shape=shape,
    )


def rows_with_image(images: npt.NDArray[np.float32]) -> npt.NDArray[np.bool_]:
    """``(n,)`` mask of the rows whose image is not blank (missing images are all zeros)."""
    return np.asarray(images.reshape(len(images), -1).any(axis=1))


def image_features(
    images: object,
    blank_features: npt.NDArray[np.float32],
    encode: EncodeImages,
) -> npt.NDArray[np.float32]:
    """The encoder's features of every row: ``encode`` on the rows with an image only.

    Args:
        images: ``(n, size, size, 3)`` batch of images, blank (all zeros) where missing.
        blank_features: ``(1, ...)`` features of one blank image.
        encode: Runs the encoder on ``(m, size, size, 3)`` images.

    Returns:
        ``(n, ...)`` float32 features, the blank image's on the rows without image.
    """
    batch = dense(images)
    features = np.repeat(blank_features, len(batch), axis=0)
    shown = rows_with_image(batch)
    if shown.any():
        features[shown] = encode(np.ascontiguousarray(batch[shown]))
    return features


class SkippingImageEncoder:
    """The encoder cut off by :func:`split_image_encoder`, run on the rows with an image only."""

    def __init__(
        self, split: ImageEncoderSplit, session: Callable[[bytes], ort.InferenceSession]
    ) -> None:
        """Open the encoder's session and compute the blank image's features once.

        Args:
            split: The split model (its ``remaining`` graph is the caller's to run).
            session: Opens an ONNX Runtime session on a serialised graph.

        Raises:
            ValueError: The handed-over tensor does not have one row per image.
            onnxruntime.capi.onnxruntime_pybind11_state.Fail: The encoder graph does not load.
        """
        self.image_input = split.image_input
        self.features = split.features
        """Name of the remaining graph's input that takes :meth:`__call__`'s output."""
        self._session = session(split.encoder)
        blanks = self._encode(np.zeros((2, *split.image_shape), np.float32))
        if blanks.ndim == 0 or len(blanks) != 2:
            raise ValueError(f"{self.features} is not one row of features per image")
        self._blank_features = blanks[:1]

    def _encode(self, images: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        outputs = self._session.run(None, {self.image_input: images})
        return np.asarray(outputs[0], dtype=np.float32)

    def __call__(self, images: object) -> npt.NDArray[np.float32]:
        """The ``(n, ...)`` features of ``(n, size, size, 3)`` images: :func:`image_features`."""
        return image_features(images, self._blank_features, self._encode)


def _declaring(model: onnx.ModelProto, tensor: str) -> onnx.ModelProto:
    """``model``, or a copy that declares ``tensor`` (a float tensor) to cut the graph there."""
    if any(value.name == tensor for value in model.graph.value_info):
        return model
    declared = onnx.ModelProto()
    declared.CopyFrom(model)
    declared.graph.value_info.append(
        helper.make_tensor_value_info(tensor, onnx.TensorProto.FLOAT, None)
    )
    return declared


def _fixed_item_shape(model: onnx.ModelProto, input_name: str) -> tuple[int, ...] | None:
    """The shape of one item of a graph input, when every dimension but the batch is fixed."""
    for value in model.graph.input:
        if value.name == input_name:
            dims = value.type.tensor_type.shape.dim[1:]
            if dims and all(dim.HasField("dim_value") for dim in dims):
                return tuple(int(dim.dim_value) for dim in dims)
            return None
    return None
