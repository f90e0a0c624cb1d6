"""A batch of model inputs, by input name: dense arrays, the TF-IDF rows as a sparse matrix."""

from collections.abc import Mapping
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

ModelBatch: TypeAlias = Mapping[str, Any]
"""Input name → ``(n, ...)`` float32 array, or a scipy sparse ``(n, features)`` matrix."""


def dense(value: Any) -> npt.NDArray[np.float32]:
    """Return an input as a dense float32 array (sparse matrices are densified)."""
    if hasattr(value, "toarray"):
        value = value.toarray()
    return np.asarray(value, dtype=np.float32)
