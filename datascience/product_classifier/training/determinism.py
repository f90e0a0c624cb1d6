"""Make a training run repeatable: one seed for every random draw, deterministic TensorFlow ops.

With the same data, seed and machine, two runs give the same weights and the same predictions
on CPU. The seed drives the validation split (:func:`~product_classifier.training.split_data.
validation_positions`), the shuffling of the training batches, weight initialisation, dropout and
data augmentation.
"""

from typing import Final

DEFAULT_SEED: Final = 42
"""Seed used when the command line does not give one."""


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy, TensorFlow and Keras, and make TensorFlow ops deterministic.

    Follows the TensorFlow guide of ``tf.config.experimental.enable_op_determinism``:
    ``keras.utils.set_random_seed`` then ``enable_op_determinism`` (process-wide, and it cannot be
    undone; deterministic kernels may be a little slower).

    Args:
        seed: Any non-negative integer.
    """
    import keras  # noqa: PLC0415 - TensorFlow loads only when training
    import tensorflow as tf  # noqa: PLC0415

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
