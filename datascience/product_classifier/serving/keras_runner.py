"""Run a logged Keras model on TensorFlow, without ``keras.Model.predict``'s per-call overhead.

``keras.Model.predict`` costs tens of milliseconds per call; one ``tf.function`` with a fixed
input signature is traced instead, and warmed up by the caller.
"""

from collections.abc import Mapping
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt

from product_classifier.serving.batch import ModelBatch, dense


def _run_model(model: Any, batch: Any) -> Any:
    """Call a Keras model in inference mode (wrapped in a ``tf.function`` per loaded model)."""
    return model(batch, training=False)


class KerasRunner:
    """A ``.keras`` model called through one traced ``tf.function``."""

    def __init__(self, model_path: str) -> None:
        """Load the model (this imports TensorFlow: seconds and hundreds of megabytes).

        Args:
            model_path: The ``.keras`` file.
        """
        import keras  # noqa: PLC0415 - TensorFlow loads with the model, not with this module
        import tensorflow as tf  # noqa: PLC0415

        self.model: Any = keras.saving.load_model(model_path, compile=False)
        specs = {
            tensor.name: tf.TensorSpec(shape=(None, *tensor.shape[1:]), dtype=tf.float32)
            for tensor in self.model.inputs
        }
        self.input_names: tuple[str, ...] = tuple(specs)
        # A single-input model takes its tensor as is, not in a dict.
        self._single = next(iter(specs)) if len(specs) == 1 else None
        signature = specs[self._single] if self._single is not None else specs
        # A partial per model: TensorFlow counts traces per Python function, and one trace per
        # loaded model must not look like retracing when a process loads several models.
        self._infer = tf.function(partial(_run_model, self.model), input_signature=[signature])

    def __call__(self, batch: ModelBatch) -> npt.NDArray[np.float32]:
        """Return the ``(n, 27)`` softmax output for a batch of model inputs."""
        inputs: Mapping[str, Any] = {name: dense(value) for name, value in batch.items()}
        model_input = inputs[self._single] if self._single is not None else inputs
        return np.asarray(self._infer(model_input), dtype=np.float32)
