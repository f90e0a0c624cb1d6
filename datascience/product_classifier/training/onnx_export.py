"""Export a trained Keras model to ONNX, so that it can be served without TensorFlow.

The model's inference pass (``model(inputs, training=False)``) is traced as one ``tf.function``
and converted by ``tf2onnx``, as Keras 3's ``model.export(path, format="onnx")`` does, except
that Keras's export traces the model without ``training=False``: its random augmentation layers
(flip, rotation, zoom), which default to training mode, would then be exported active (and as
TensorFlow-only random ops ONNX Runtime cannot run). The ONNX graph's inputs keep the Keras
input names. The export is an optimisation, not a requirement: when it fails, training goes on,
a warning says why, and the logged model serves with Keras.
"""

import contextlib
import logging
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


def _convert(model: Any, path: Path) -> None:
    """Trace ``model(inputs, training=False)`` and write it to ``path`` as ONNX."""
    import tensorflow as tf  # noqa: PLC0415 - only training exports
    import tf2onnx  # noqa: PLC0415
    from keras.src.export.tf2onnx_lib import patch_tf2onnx  # noqa: PLC0415

    names = [tensor.name for tensor in model.inputs]
    specs = [
        tf.TensorSpec((None, *tensor.shape[1:]), tf.float32, name=tensor.name)
        for tensor in model.inputs
    ]

    def infer(*tensors: Any) -> Any:
        inputs = dict(zip(names, tensors, strict=True)) if len(names) > 1 else tensors[0]
        return model(inputs, training=False)

    patch_tf2onnx()  # what Keras's own ONNX export does first (numpy 2 names tf2onnx still uses)
    function = tf.function(infer, input_signature=specs)
    tf2onnx.convert.from_function(function, input_signature=specs, output_path=str(path))


def export_onnx(model: Any, path: Path) -> Path | None:
    """Export a Keras model's inference pass to an ONNX file.

    Args:
        model: A built ``keras.Model`` whose inputs are float32 tensors.
        path: Where to write the ``.onnx`` file (replaced if present).

    Returns:
        ``path``, or ``None`` when the export failed (logged as a warning).
    """
    try:
        path.unlink(missing_ok=True)
        _convert(model, path)
    except Exception as error:  # any converter failure only costs the fast runtime
        logger.warning(
            "Could not export the model to ONNX (%s: %s); it will be served with Keras.",
            type(error).__name__,
            error,
        )
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
        return None
    return path
