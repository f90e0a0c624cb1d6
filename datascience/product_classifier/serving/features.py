"""Turn products into model inputs: the one featurization shared by training and serving.

Training builds its arrays with these functions and the logged model calls them again at
prediction time, so both read text and images the same way. The Keras models name their inputs
with the constants below; the fusion model takes all four, the text and image models one each.
"""

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from PIL import Image

from product_classifier.preprocessing.image import load_rgb_image, optimise_image
from product_classifier.preprocessing.text import product_text

TEXT_INPUT: Final = "text_input"
"""TF-IDF vector of the product text (dense float32)."""
IMAGE_INPUT: Final = "image_input"
"""Square RGB image, float32 values in 0..255 (the models scale it themselves)."""
TEXT_PRESENT: Final = "text_present"
"""1.0 when the row has text, else 0.0 (fusion only)."""
IMAGE_PRESENT: Final = "image_present"
"""1.0 when the row has an image, else 0.0 (fusion only)."""


def product_documents(designations: Sequence[object], descriptions: Sequence[object]) -> list[str]:
    """Return the raw text the featurizer reads for each product (title and description)."""
    return [
        product_text(designation, description)
        for designation, description in zip(designations, descriptions, strict=True)
    ]


def text_matrix(featurizer: Any, documents: Sequence[str]) -> Any:
    """Apply the fitted TF-IDF featurizer (cleaning included) to product documents.

    Returns:
        A scipy sparse matrix of float32, one row per document.
    """
    return featurizer.transform(list(documents)).astype(np.float32)


def image_array(image: Image.Image, size: int) -> npt.NDArray[np.uint8]:
    """Optimise one decoded image exactly as datasets do and return it as ``(size, size, 3)``."""
    return np.asarray(optimise_image(image.convert("RGB"), size), dtype=np.uint8)


def load_image_array(path: str | Path, size: int) -> npt.NDArray[np.uint8]:
    """Read an image file and return it optimised as ``(size, size, 3)`` uint8."""
    return image_array(load_rgb_image(Path(path)), size)


def image_batch(images: Sequence[Image.Image | None], size: int) -> npt.NDArray[np.float32]:
    """Stack images into a float32 ``(n, size, size, 3)`` batch; missing images are zeros."""
    batch = np.zeros((len(images), size, size, 3), dtype=np.float32)
    for row, image in enumerate(images):
        if image is not None:
            batch[row] = image_array(image, size)
    return batch


def presence_column(flags: Sequence[bool] | npt.NDArray[np.bool_]) -> npt.NDArray[np.float32]:
    """Return presence flags as the ``(n, 1)`` float32 column the fusion model takes."""
    return np.asarray(flags, dtype=np.float32).reshape(-1, 1)
