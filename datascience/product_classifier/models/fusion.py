"""The fusion model: text and image features concatenated → Dense 512 → Dense 128 → softmax.

The trained text and image models lose their classification layer and become frozen encoders
(:data:`~product_classifier.models.text.TEXT_FEATURES_LAYER` and
:data:`~product_classifier.models.image.IMAGE_FEATURES_LAYER`). A small head combines their
features, each normalised and brought to the same width first (see :func:`build_fusion_head`).
It answers from the text alone, the image alone or both: each modality's features are multiplied
by a presence flag (0 zeroes a missing modality) and the flags are inputs too, so the head knows
what it was given. Training drops one modality at random (:func:`modality_dropout`),
which teaches the head to answer well from either modality alone.

Because the encoders are frozen, the head is trained on features computed once
(:func:`build_fusion_head`); :func:`build_fusion_model` then assembles the served model, which
takes the raw inputs of both encoders plus the presence flags.
"""

from dataclasses import dataclass
from typing import Any, Final

from product_classifier.categories import NUM_CATEGORIES
from product_classifier.serving.features import (
    IMAGE_INPUT,
    IMAGE_PRESENT,
    TEXT_INPUT,
    TEXT_PRESENT,
)

TEXT_EMBEDDING: Final = "text_embedding"
"""Head input: the text encoder's features."""
IMAGE_EMBEDDING: Final = "image_embedding"
"""Head input: the image encoder's features."""
FUSION_OUTPUT_LAYER: Final = "fusion_output"


@dataclass(frozen=True)
class FusionModelDefaults:
    """Hyper-parameters of the fusion head and of its training."""

    hidden_units: tuple[int, int] = (512, 128)
    projection_units: int = 128
    """Width every modality's features are brought to (wider ones are projected down)."""
    dropout: float = 0.3
    learning_rate: float = 1e-3
    text_drop_rate: float = 0.25
    """Share of training rows (having both inputs) shown without their text."""
    image_drop_rate: float = 0.25
    """Share of training rows (having both inputs) shown without their image."""


def feature_extractor(model: Any, layer_name: str, name: str) -> Any:
    """Return ``model`` cut after ``layer_name``: a frozen encoder sharing its weights."""
    import keras  # noqa: PLC0415 - TensorFlow loads only when a model is built

    encoder = keras.Model(model.inputs, model.get_layer(layer_name).output, name=name)
    encoder.trainable = False
    return encoder


def build_fusion_head(
    text_dim: int, image_dim: int, defaults: FusionModelDefaults = FusionModelDefaults()
) -> Any:
    """Build and compile the head that classifies concatenated, gated features.

    Each modality's features are layer-normalised and, when wider than
    ``defaults.projection_units``, projected down to that width (the image's 1280 MobileNetV2
    features and the text model's wide layer both become 128). Without this the image, with ten
    times more and larger features than the 128 text features it was measured against, drowned
    the text: on the generated sample the head scored below the text model alone (0.93-0.96
    against 0.98 accuracy); balanced, it scored 0.98-0.99.

    Args:
        text_dim: Width of the text encoder's features.
        image_dim: Width of the image encoder's features.
        defaults: Hyper-parameters.

    Returns:
        A compiled Keras model with inputs :data:`TEXT_EMBEDDING`, :data:`IMAGE_EMBEDDING`,
        ``text_present`` and ``image_present`` (``(n, 1)`` flags).
    """
    import keras  # noqa: PLC0415

    text = keras.Input(shape=(text_dim,), name=TEXT_EMBEDDING)
    image = keras.Input(shape=(image_dim,), name=IMAGE_EMBEDDING)
    text_present = keras.Input(shape=(1,), name=TEXT_PRESENT)
    image_present = keras.Input(shape=(1,), name=IMAGE_PRESENT)

    def balanced(features: Any, width: int, name: str) -> Any:
        """Normalise a modality's features and bring them to the common width."""
        features = keras.layers.LayerNormalization(name=f"{name}_norm")(features)
        if width > defaults.projection_units:
            features = keras.layers.Dense(
                defaults.projection_units, activation="relu", name=f"{name}_projection"
            )(features)
            features = keras.layers.LayerNormalization(name=f"{name}_projection_norm")(features)
        return features

    gated_text = keras.layers.Multiply(name="text_gate")(
        [balanced(text, text_dim, "text"), text_present]
    )
    gated_image = keras.layers.Multiply(name="image_gate")(
        [balanced(image, image_dim, "image"), image_present]
    )
    x = keras.layers.Concatenate(name="fused_features")(
        [gated_text, gated_image, text_present, image_present]
    )
    first, second = defaults.hidden_units
    x = keras.layers.Dense(first, activation="relu", name="fusion_dense_1")(x)
    x = keras.layers.Dropout(defaults.dropout, name="fusion_dropout_1")(x)
    x = keras.layers.Dense(second, activation="relu", name="fusion_dense_2")(x)
    x = keras.layers.Dropout(defaults.dropout, name="fusion_dropout_2")(x)
    outputs = keras.layers.Dense(NUM_CATEGORIES, activation="softmax", name=FUSION_OUTPUT_LAYER)(x)
    inputs = {
        TEXT_EMBEDDING: text,
        IMAGE_EMBEDDING: image,
        TEXT_PRESENT: text_present,
        IMAGE_PRESENT: image_present,
    }
    head = keras.Model(inputs, outputs, name="fusion_head")
    head.compile(
        optimizer=keras.optimizers.Adam(defaults.learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=["accuracy"],
    )
    return head


def build_fusion_model(text_encoder: Any, image_encoder: Any, head: Any) -> Any:
    """Assemble the served fusion model from the frozen encoders and the trained head.

    Returns:
        A Keras model with inputs ``text_input``, ``image_input``, ``text_present`` and
        ``image_present`` and 27 softmax outputs.
    """
    import keras  # noqa: PLC0415

    text_shape = tuple(text_encoder.inputs[0].shape[1:])
    image_shape = tuple(image_encoder.inputs[0].shape[1:])
    text = keras.Input(shape=text_shape, name=TEXT_INPUT)
    image = keras.Input(shape=image_shape, name=IMAGE_INPUT)
    text_present = keras.Input(shape=(1,), name=TEXT_PRESENT)
    image_present = keras.Input(shape=(1,), name=IMAGE_PRESENT)
    outputs = head(
        {
            TEXT_EMBEDDING: text_encoder(text),
            IMAGE_EMBEDDING: image_encoder(image),
            TEXT_PRESENT: text_present,
            IMAGE_PRESENT: image_present,
        }
    )
    return keras.Model(
        {
            TEXT_INPUT: text,
            IMAGE_INPUT: image,
            TEXT_PRESENT: text_present,
            IMAGE_PRESENT: image_present,
        },
        outputs,
        name="fusion_model",
    )


def modality_dropout(text_drop_rate: float, image_drop_rate: float) -> Any:
    """Return a ``tf.data`` map that hides one modality of random training rows.

    Only rows that have both inputs lose one; a row keeps at least one modality. The encoders'
    features stay in the batch: the zeroed presence flag gates them off inside the model.

    Args:
        text_drop_rate: Probability that such a row loses its text.
        image_drop_rate: Probability that such a row loses its image.

    Returns:
        A function ``(features, labels) -> (features, labels)`` for ``Dataset.map``.
    """
    import tensorflow as tf  # noqa: PLC0415

    def drop(features: dict[str, Any], labels: Any) -> tuple[dict[str, Any], Any]:
        text_present = features[TEXT_PRESENT]
        image_present = features[IMAGE_PRESENT]
        both = text_present * image_present
        draw = tf.random.uniform(tf.shape(text_present))
        drop_text = tf.cast(draw < text_drop_rate, tf.float32) * both
        drop_image = tf.cast(draw >= 1.0 - image_drop_rate, tf.float32) * both
        features = dict(features)
        features[TEXT_PRESENT] = text_present * (1.0 - drop_text)
        features[IMAGE_PRESENT] = image_present * (1.0 - drop_image)
        return features, labels

    # No tensor-dependent Python control flow: AutoGraph is not needed.
    return tf.autograph.experimental.do_not_convert(drop)
