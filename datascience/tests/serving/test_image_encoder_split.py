"""The image features of a batch: the encoder runs on the rows with an image, once per call."""

import numpy as np
import numpy.typing as npt

from product_classifier.serving.image_encoder_split import (
    EncodeImages,
    image_features,
    rows_with_image,
)


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
