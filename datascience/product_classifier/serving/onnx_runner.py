"""Run a logged model's ONNX export with ONNX Runtime: no TensorFlow in the process.

When the model reads a sparse TF-IDF row, the dense layers reading it are computed as one scipy
sparse product and ONNX Runtime runs the rest of the graph (see
:mod:`product_classifier.serving.sparse_first_layer`); otherwise ONNX Runtime runs the whole
graph on dense inputs. When the model reads an image beside other inputs (the fusion model), the
image encoder runs only on the rows that have an image: the rows without take the features of
the blank image, computed once (see :mod:`product_classifier.serving.image_encoder_split`).
"""

import logging

import numpy as np
import numpy.typing as npt
import onnx
import onnxruntime as ort

from product_classifier.serving.batch import ModelBatch, dense
from product_classifier.serving.features import IMAGE_INPUT
from product_classifier.serving.image_encoder_split import (
    SkippingImageEncoder,
    split_image_encoder,
)
from product_classifier.serving.sparse_first_layer import SplitModel, split_first_layer

logger = logging.getLogger(__name__)


def _session(model: bytes | str) -> ort.InferenceSession:
    options = ort.SessionOptions()
    # Requests are small: one thread per call avoids waking (and spinning) a thread pool, and
    # leaves the other cores to the other requests and workers.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


class OnnxRunner:
    """An ONNX model run by ONNX Runtime, its first layer on ``sparse_input`` done sparsely."""

    def __init__(self, model_path: str, sparse_input: str | None = None) -> None:
        """Load the model.

        Args:
            model_path: The ``.onnx`` file.
            sparse_input: Input fed with scipy sparse rows (the TF-IDF vector), if any.
        """
        model = onnx.load(model_path)
        self.input_names: tuple[str, ...] = tuple(value.name for value in model.graph.input)
        self._sparse_input = sparse_input
        self._split: SplitModel | None = (
            split_first_layer(model, sparse_input) if sparse_input in self.input_names else None
        )
        graph = self._split.remaining if self._split is not None else model.SerializeToString()
        del model  # the weights split off are held once, in self._split
        self.image_encoder: SkippingImageEncoder | None = None
        """The fusion model's image encoder, run apart on the rows with an image (if split)."""
        rest = self._skipping_image_encoder(graph)
        self._session = rest if rest is not None else _session(graph)
        self._output = self._session.get_outputs()[0].name

    def _skipping_image_encoder(self, graph: bytes) -> ort.InferenceSession | None:
        """Cut the image encoder off ``graph``; return the session of the rest, if cut.

        Any failure leaves the graph whole (logged): the model still serves, only slower.
        """
        if IMAGE_INPUT not in self.input_names or len(self.input_names) == 1:
            return None
        try:
            split = split_image_encoder(onnx.load_model_from_string(graph), IMAGE_INPUT)
            if split is None:
                return None
            self.image_encoder = SkippingImageEncoder(split, _session)
            return _session(split.remaining)
        except Exception:  # an exported graph of a shape we did not foresee
            logger.warning(
                "The image encoder runs on every row: the graph could not be cut.", exc_info=True
            )
            self.image_encoder = None
            return None

    @property
    def splits_first_layer(self) -> bool:
        """Whether the layers on the sparse input run as a sparse product."""
        return self._split is not None

    def __call__(self, batch: ModelBatch) -> npt.NDArray[np.float32]:
        """Return the ``(n, 27)`` softmax output for a batch of model inputs."""
        feeds: dict[str, npt.NDArray[np.float32]] = {}
        for name, value in batch.items():
            if self._split is not None and name == self._sparse_input:
                product = np.asarray(value @ self._split.weights, dtype=np.float32)
                for part in self._split.products:
                    columns = product[:, part.start : part.stop]
                    feeds[part.input_name] = np.ascontiguousarray(columns)
            elif self.image_encoder is not None and name == self.image_encoder.image_input:
                feeds[self.image_encoder.features] = self.image_encoder(value)
            else:
                feeds[name] = dense(value)
        outputs = self._session.run([self._output], feeds)
        return np.asarray(outputs[0], dtype=np.float32)
