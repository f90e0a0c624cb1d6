"""The image model: MobileNetV2 backbone → global average pooling → dropout → softmax.

The model takes square RGB images with values in 0..255 (what
:func:`product_classifier.serving.features.image_batch` produces) and scales them itself, so the
scaling travels with the saved model. Layer names are part of the contract with the fusion model,
which takes the pooled features of the layer :data:`IMAGE_FEATURES_LAYER`.

Training runs in phases (see :func:`image_training_phases`): with pretrained backbone weights, the
head is trained with the backbone frozen, then everything is fine-tuned at a low learning rate;
with random weights there is nothing to preserve, so everything is trained from the start.
"""

import contextlib
import io
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from product_classifier.categories import NUM_CATEGORIES
from product_classifier.serving.features import IMAGE_INPUT

logger = logging.getLogger(__name__)

MIN_IMAGE_SIZE: Final = 32
"""MobileNetV2 needs at least 32x32 pixels."""
IMAGENET: Final = "imagenet"
RANDOM_WEIGHTS_BN_MOMENTUM: Final = 0.9
NO_WEIGHTS: Final = "none"

BACKBONE_LAYER: Final = "mobilenetv2_backbone"
AUGMENTATION_LAYER: Final = "augmentation"
IMAGE_FEATURES_LAYER: Final = "image_features"
"""Global average pooling of the backbone: the features the fusion model takes."""
IMAGE_OUTPUT_LAYER: Final = "image_output"

HEAD_PHASE: Final = "head"
FINE_TUNE_PHASE: Final = "fine_tune"
FULL_PHASE: Final = "full"


class WeightsError(ValueError):
    """The ``--weights`` option names a file that does not exist or cannot be loaded."""


@dataclass(frozen=True)
class ImageModelDefaults:
    """Hyper-parameters of the image model and of its training phases."""

    dropout: float = 0.2
    learning_rate: float = 1e-3
    """Learning rate of the head phase (pretrained) or of the single phase (random weights)."""
    fine_tune_learning_rate: float = 1e-5
    """Low learning rate of the fine-tuning phase, so pretrained features are not destroyed."""
    flip: str = "horizontal"
    rotation: float = 0.05
    zoom: float = 0.1


@dataclass(frozen=True)
class Backbone:
    """A MobileNetV2 feature extractor and whether it starts from pretrained weights."""

    model: Any
    pretrained: bool
    weights: str
    """What was actually loaded: ``imagenet``, ``none`` or the weights file path."""


def download_failure_reason(error: BaseException, limit: int = 160) -> str:
    """Say why a download failed, in words, without cutting one in half.

    Keras reports ``URL fetch failure on <url>: None -- [Errno -2] Name or service not known``:
    the part after ``--`` says why. A longer reason is cut at a space, with ``...``.
    """
    text = " ".join(str(error).split()) or type(error).__name__
    reason = text.rsplit(" -- ", 1)[-1]
    if len(reason) <= limit:
        return reason
    return reason[:limit].rsplit(" ", 1)[0] + "..."


def build_backbone(image_size: int, weights: str = IMAGENET) -> Backbone:
    """Build the MobileNetV2 backbone (no top) with the requested weights.

    Args:
        image_size: Side of the square input images, at least :data:`MIN_IMAGE_SIZE`.
        weights: ``imagenet`` (falls back to random weights, with one log line, when the weights
            cannot be downloaded), ``none`` (random weights) or the path of a weights file saved
            from a MobileNetV2 backbone of the same shape (``.weights.h5`` or ``.h5``).

    Returns:
        The backbone, named :data:`BACKBONE_LAYER`.

    Raises:
        WeightsError: ``weights`` is a path that does not exist or does not fit the backbone.
        ValueError: ``image_size`` is too small.
    """
    import keras  # noqa: PLC0415 - TensorFlow loads only when a model is built

    if image_size < MIN_IMAGE_SIZE:
        raise ValueError(
            f"The image size must be at least {MIN_IMAGE_SIZE} pixels, not {image_size}."
        )

    def build(source: str | None) -> Any:
        with warnings.catch_warnings():
            # Keras warns that ImageNet weights exist only for a few sizes; the convolution
            # weights fit any size, which is what we want.
            warnings.filterwarnings("ignore", message=".*input_shape.*", category=UserWarning)
            return keras.applications.MobileNetV2(
                input_shape=(image_size, image_size, 3),
                include_top=False,
                weights=source,
                name=BACKBONE_LAYER,
            )

    def random_backbone() -> Backbone:
        model = build(None)
        # MobileNetV2's batch normalisation averages its statistics over ~1000 steps
        # (momentum 0.999): from random weights, on a few thousand images, the averages would
        # still be far from the real statistics when validation starts and the model would
        # predict one class. A shorter memory lets them follow the training.
        for layer in model.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.momentum = RANDOM_WEIGHTS_BN_MOMENTUM
        return Backbone(model, pretrained=False, weights=NO_WEIGHTS)

    choice = weights.strip()
    if choice.lower() == NO_WEIGHTS:
        return random_backbone()
    if choice.lower() == IMAGENET:
        try:
            # Keras prints "Downloading data from ..." itself: keep the output to our one line.
            with contextlib.redirect_stdout(io.StringIO()):
                return Backbone(build(IMAGENET), pretrained=True, weights=IMAGENET)
        except Exception as error:  # Keras raises a bare Exception on download failures.
            if "fetch failure" not in str(error) and not isinstance(error, OSError):
                raise
            logger.warning(
                "ImageNet weights for MobileNetV2 could not be downloaded (%s); continuing from "
                "random weights (--weights PATH loads a local weights file).",
                download_failure_reason(error),
            )
            return random_backbone()
    path = Path(choice).expanduser()
    if not path.is_file():
        raise WeightsError(f"--weights: {path} is neither 'imagenet', 'none' nor a weights file.")
    try:
        return Backbone(build(str(path.resolve())), pretrained=True, weights=str(path))
    except (ValueError, OSError) as error:
        raise WeightsError(
            f"--weights: {path} does not hold MobileNetV2 backbone weights for "
            f"{image_size}x{image_size} images ({str(error).splitlines()[0][:200]})."
        ) from None


def build_image_model(
    image_size: int,
    backbone: Backbone,
    *,
    augmentation: bool = True,
    defaults: ImageModelDefaults = ImageModelDefaults(),
) -> Any:
    """Assemble the image classifier around a backbone (not compiled: phases compile it).

    Args:
        image_size: Side of the square input images.
        backbone: From :func:`build_backbone`.
        augmentation: Add random flip, rotation and zoom layers (active only while training).
        defaults: Hyper-parameters.

    Returns:
        A Keras model from ``image_input`` (RGB, 0..255) to 27 softmax probabilities.
    """
    import keras  # noqa: PLC0415

    inputs = keras.Input(shape=(image_size, image_size, 3), name=IMAGE_INPUT)
    x = inputs
    if augmentation:
        x = keras.Sequential(
            [
                keras.layers.RandomFlip(defaults.flip),
                keras.layers.RandomRotation(
                    defaults.rotation, fill_mode="constant", fill_value=255.0
                ),
                keras.layers.RandomZoom(defaults.zoom, fill_mode="constant", fill_value=255.0),
            ],
            name=AUGMENTATION_LAYER,
        )(x)
    # MobileNetV2 expects values in [-1, 1].
    x = keras.layers.Rescaling(scale=1.0 / 127.5, offset=-1.0, name="scaling")(x)
    # A pretrained backbone keeps its batch-normalisation statistics (inference mode) even while
    # fine-tuning, as the Keras transfer-learning guide advises; a random one must learn them.
    x = backbone.model(x, training=False) if backbone.pretrained else backbone.model(x)
    x = keras.layers.GlobalAveragePooling2D(name=IMAGE_FEATURES_LAYER)(x)
    x = keras.layers.Dropout(defaults.dropout, name="image_dropout")(x)
    outputs = keras.layers.Dense(NUM_CATEGORIES, activation="softmax", name=IMAGE_OUTPUT_LAYER)(x)
    return keras.Model(inputs, outputs, name="image_model")


def _compile(model: Any, learning_rate: float) -> None:
    import keras  # noqa: PLC0415

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=["accuracy"],
    )


def _set_backbone_trainable(model: Any, trainable: bool) -> None:
    model.get_layer(BACKBONE_LAYER).trainable = trainable


def image_training_phases(
    defaults: ImageModelDefaults = ImageModelDefaults(),
) -> dict[str, Callable[[Any], None]]:
    """Return how to set up each training phase of the image model, by phase name.

    Each function sets which layers train and compiles the model with the phase's learning rate.

    Returns:
        ``head`` (backbone frozen), ``fine_tune`` (everything, low learning rate) and ``full``
        (everything, normal learning rate: for random backbone weights).
    """

    def head(model: Any) -> None:
        _set_backbone_trainable(model, False)
        _compile(model, defaults.learning_rate)

    def fine_tune(model: Any) -> None:
        _set_backbone_trainable(model, True)
        _compile(model, defaults.fine_tune_learning_rate)

    def full(model: Any) -> None:
        _set_backbone_trainable(model, True)
        _compile(model, defaults.learning_rate)

    return {HEAD_PHASE: head, FINE_TUNE_PHASE: fine_tune, FULL_PHASE: full}


def phase_names(backbone: Backbone) -> list[str]:
    """Return the phases to run: two with pretrained weights, one with random weights."""
    return [HEAD_PHASE, FINE_TUNE_PHASE] if backbone.pretrained else [FULL_PHASE]
