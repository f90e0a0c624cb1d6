"""Split an ONNX model's first dense layer off its sparse input, to compute it as a sparse product.

The text models read a TF-IDF row of tens of thousands of features of which about a hundred are
non-zero. Their first layer, a ``MatMul`` by a ``(features, units)`` weight matrix, costs
milliseconds on the dense row, and microseconds as a scipy CSR row times the weight matrix. This
module finds that ``MatMul`` in the exported graph, takes its weights out and returns the rest
of the graph, whose input is the ``MatMul``'s output: the caller computes ``csr @ weights``
and runs the rest.
"""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import onnx
from onnx import helper, numpy_helper


@dataclass(frozen=True)
class SplitModel:
    """An ONNX model whose first layer on a sparse input runs outside it.

    Attributes:
        weights: ``(features, units)`` float32 weights of the first layer's ``MatMul``.
        product_input: Name of the remaining graph's input that receives ``rows @ weights``.
        remaining: The serialised ONNX graph after that ``MatMul``, with the model's other
            inputs unchanged.
    """

    weights: npt.NDArray[np.float32]
    product_input: str
    remaining: bytes


def split_first_layer(model: onnx.ModelProto, sparse_input: str) -> SplitModel | None:
    """Cut ``model`` after the ``MatMul`` that alone reads ``sparse_input``.

    Args:
        model: An ONNX model, e.g. exported by Keras.
        sparse_input: Name of the graph input fed with sparse rows.

    Returns:
        The split model, or ``None`` when ``sparse_input`` is read by anything else than one
        ``MatMul`` by a constant weight matrix (the model then runs whole).
    """
    graph = model.graph
    readers = [node for node in graph.node if sparse_input in node.input]
    if len(readers) != 1 or readers[0].op_type != "MatMul" or readers[0].input[0] != sparse_input:
        return None
    matmul = readers[0]
    initializers = {tensor.name: tensor for tensor in graph.initializer}
    if matmul.input[1] not in initializers:
        return None
    weights = numpy_helper.to_array(initializers[matmul.input[1]]).astype(np.float32)
    return SplitModel(
        weights=np.ascontiguousarray(weights),
        product_input=matmul.output[0],
        remaining=_without(model, matmul, sparse_input, weights.shape[1]).SerializeToString(),
    )


def _without(
    model: onnx.ModelProto, matmul: onnx.NodeProto, sparse_input: str, units: int
) -> onnx.ModelProto:
    """Copy ``model`` without ``matmul``, whose output becomes an input of ``units`` columns."""
    remaining = onnx.ModelProto()
    remaining.CopyFrom(model)
    graph = remaining.graph
    kept = [node for node in graph.node if list(node.output) != list(matmul.output)]
    del graph.node[:]
    graph.node.extend(kept)
    product = helper.make_tensor_value_info(
        matmul.output[0], onnx.TensorProto.FLOAT, [_batch_dimension(model, sparse_input), units]
    )
    inputs = [product if value.name == sparse_input else value for value in graph.input]
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
