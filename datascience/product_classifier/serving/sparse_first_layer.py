"""Split an ONNX model's first dense layers off its sparse input, to compute them sparsely.

The text models read a TF-IDF row of tens of thousands of features of which about a hundred are
non-zero. Their first layer, a ``MatMul`` by a ``(features, units)`` weight matrix, costs
milliseconds on the dense row, and microseconds as a scipy CSR row times the weight matrix. This
module finds the ``MatMul`` nodes that read the sparse input in the exported graph (one for the
MLP; more when other layers read the input too: the wide path, the linear scores of a linear
ensemble), takes their weights out side by side and returns the rest of the graph, whose inputs
are the ``MatMul`` outputs: the caller computes ``csr @ weights`` once, hands each ``MatMul``
its block of columns and runs the rest.
"""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import onnx
from onnx import helper, numpy_helper


@dataclass(frozen=True)
class ProductSlice:
    """The columns of the joint sparse product that one removed ``MatMul`` produced.

    Attributes:
        input_name: Name of the remaining graph's input that receives these columns.
        start: First column in the joint product.
        stop: Column after the last one.
    """

    input_name: str
    start: int
    stop: int


@dataclass(frozen=True)
class SplitModel:
    """An ONNX model whose first layers on a sparse input run outside it.

    Attributes:
        weights: ``(features, units)`` float32 weights of the removed ``MatMul`` nodes, side by
            side in graph order.
        products: Which columns of ``rows @ weights`` feed which input of the remaining graph.
        remaining: The serialised ONNX graph without those ``MatMul`` nodes, with the model's
            other inputs unchanged.
    """

    weights: npt.NDArray[np.float32]
    products: tuple[ProductSlice, ...]
    remaining: bytes


def split_first_layer(model: onnx.ModelProto, sparse_input: str) -> SplitModel | None:
    """Cut ``model`` after the ``MatMul`` nodes that alone read ``sparse_input``.

    Args:
        model: An ONNX model, e.g. exported by Keras.
        sparse_input: Name of the graph input fed with sparse rows.

    Returns:
        The split model, or ``None`` when ``sparse_input`` is read by anything else than
        ``MatMul`` nodes by constant weight matrices (the model then runs whole).
    """
    graph = model.graph
    readers = [node for node in graph.node if sparse_input in node.input]
    initializers = {tensor.name: tensor for tensor in graph.initializer}
    if not readers or any(
        node.op_type != "MatMul"
        or node.input[0] != sparse_input
        or node.input[1] not in initializers
        for node in readers
    ):
        return None
    blocks = [numpy_helper.to_array(initializers[node.input[1]]) for node in readers]
    products: list[ProductSlice] = []
    start = 0
    for node, block in zip(readers, blocks, strict=True):
        products.append(ProductSlice(node.output[0], start, start + block.shape[1]))
        start += block.shape[1]
    weights = np.concatenate(blocks, axis=1).astype(np.float32)
    return SplitModel(
        weights=np.ascontiguousarray(weights),
        products=tuple(products),
        remaining=_without(model, readers, sparse_input, products).SerializeToString(),
    )


def _without(
    model: onnx.ModelProto,
    matmuls: list[onnx.NodeProto],
    sparse_input: str,
    products: list[ProductSlice],
) -> onnx.ModelProto:
    """Copy ``model`` without ``matmuls``, whose outputs become inputs of their widths."""
    remaining = onnx.ModelProto()
    remaining.CopyFrom(model)
    graph = remaining.graph
    removed = {output for node in matmuls for output in node.output}
    kept = [node for node in graph.node if not removed.intersection(node.output)]
    del graph.node[:]
    graph.node.extend(kept)
    batch = _batch_dimension(model, sparse_input)
    new_inputs = [
        helper.make_tensor_value_info(
            product.input_name, onnx.TensorProto.FLOAT, [batch, product.stop - product.start]
        )
        for product in products
    ]
    inputs: list[onnx.ValueInfoProto] = []
    for value in graph.input:
        inputs.extend(new_inputs if value.name == sparse_input else [value])
    del graph.input[:]
    graph.input.extend(inputs)
    used = {name for node in kept for name in node.input}
    initializers = [tensor for tensor in graph.initializer if tensor.name in used]
    del graph.initializer[:]
    graph.initializer.extend(initializers)
    onnx.checker.check_model(remaining)
    return remaining


def _batch_dimension(model: onnx.ModelProto, input_name: str) -> str | int | None:
    """The first dimension of a graph input: its symbolic name, its size or ``None``."""
    for value in model.graph.input:
        if value.name == input_name:
            dimension = value.type.tensor_type.shape.dim[0]
            if dimension.HasField("dim_param"):
                return str(dimension.dim_param)
            if dimension.HasField("dim_value"):
                return int(dimension.dim_value)
    return None
