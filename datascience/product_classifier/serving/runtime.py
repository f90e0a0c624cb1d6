"""Which runtime runs a logged model: ONNX Runtime (no TensorFlow) or Keras.

The ``MODEL_RUNTIME`` environment variable, read when a model loads, chooses:

* ``auto`` (default): ONNX Runtime when the logged model carries its ONNX export, else Keras;
* ``onnx``: ONNX Runtime, and a model without an ONNX export fails to load;
* ``keras``: Keras on TensorFlow, as before the ONNX export existed.
"""

import os
from enum import StrEnum
from typing import Final

RUNTIME_VARIABLE: Final = "MODEL_RUNTIME"


class Runtime(StrEnum):
    """The runtimes a logged model can run on."""

    AUTO = "auto"
    ONNX = "onnx"
    KERAS = "keras"


def requested_runtime() -> Runtime:
    """Read ``MODEL_RUNTIME`` (``auto`` when unset or empty).

    Raises:
        ValueError: The variable holds another value than ``auto``, ``onnx`` or ``keras``.
    """
    value = os.environ.get(RUNTIME_VARIABLE, "").strip().lower() or Runtime.AUTO.value
    try:
        return Runtime(value)
    except ValueError:
        choices = ", ".join(runtime.value for runtime in Runtime)
        raise ValueError(f"{RUNTIME_VARIABLE}={value!r} is not one of {choices}.") from None


def resolve_runtime(requested: Runtime, has_onnx_export: bool) -> Runtime:
    """Return the runtime to use: ``ONNX`` or ``KERAS``.

    Raises:
        ValueError: ONNX was requested and the model has no ONNX export.
    """
    if requested is Runtime.ONNX and not has_onnx_export:
        raise ValueError(
            f"{RUNTIME_VARIABLE}=onnx, but this model has no ONNX export "
            f"(retrain it, or set {RUNTIME_VARIABLE}=auto to serve it with Keras)."
        )
    if requested is Runtime.AUTO:
        return Runtime.ONNX if has_onnx_export else Runtime.KERAS
    return requested
