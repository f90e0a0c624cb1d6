"""Model inputs of a set of rows, and the ``tf.data`` pipelines that feed them to Keras.

A :class:`ModelInputs` maps each Keras input name to a column: a dense array, a scipy sparse
matrix (TF-IDF vectors, made dense one batch at a time) or :class:`ImagePaths` (images read and
optimised with the serving code, one element at a time, cached in memory when they fit).
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from product_classifier.categories import NUM_CATEGORIES
from product_classifier.serving.features import load_image_array

CACHE_LIMIT_BYTES: Final = 1 << 30
"""Decoded images are cached in memory when they take less than this (1 GiB)."""
SHUFFLE_SEED: Final = 42


@dataclass(frozen=True)
class ImagePaths:
    """Image files to read, optimised to ``size`` x ``size`` pixels as the served model does."""

    paths: tuple[str, ...]
    """Image files; an empty string stands for a row without image (read as zeros)."""
    size: int

    def __len__(self) -> int:
        return len(self.paths)


Column: TypeAlias = Any
"""A dense array, a scipy sparse matrix or :class:`ImagePaths` (scipy has no type hints)."""


@dataclass(frozen=True)
class ModelInputs:
    """The inputs of a Keras model for some rows, by input name (all columns have one length)."""

    columns: Mapping[str, Column]

    def __post_init__(self) -> None:
        lengths = {name: _length(column) for name, column in self.columns.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"Input columns differ in length: {lengths}")

    def __len__(self) -> int:
        return next((_length(column) for column in self.columns.values()), 0)

    def replace(self, **columns: Column) -> "ModelInputs":
        """Return a copy with some columns replaced."""
        return ModelInputs({**self.columns, **columns})


def _length(column: Column) -> int:
    return len(column) if isinstance(column, ImagePaths) else int(column.shape[0])


def concatenate(parts: Sequence[ModelInputs]) -> ModelInputs:
    """Stack the rows of several inputs with the same columns."""
    names = list(parts[0].columns)
    columns: dict[str, Column] = {}
    for name in names:
        values = [part.columns[name] for part in parts]
        first = values[0]
        if isinstance(first, ImagePaths):
            paths = tuple(path for value in values for path in value.paths)
            columns[name] = ImagePaths(paths, first.size)
        elif sp.issparse(first):
            columns[name] = sp.vstack(values, format="csr")
        else:
            columns[name] = np.concatenate(values)
    return ModelInputs(columns)


def encode_labels(labels: npt.NDArray[np.int32], one_hot: bool) -> npt.NDArray[Any]:
    """Return class indices as they are, or one-hot (for categorical losses)."""
    if one_hot:
        return np.eye(NUM_CATEGORIES, dtype=np.float32)[labels]
    return labels.astype(np.int32)


def balanced_class_weights(labels: npt.NDArray[np.int32]) -> dict[int, float]:
    """Loss weights making every present class count as much in total: ``n / (k x count)``.

    The "balanced" heuristic of scikit-learn (``compute_class_weight``), as in King & Zeng,
    "Logistic Regression in Rare Events Data" (2001). Absent classes get no entry.

    Args:
        labels: Class indices of the training rows.

    Returns:
        Weight of each class index present in ``labels``.
    """
    from sklearn.utils.class_weight import compute_class_weight  # noqa: PLC0415

    classes = np.unique(labels)
    weights = compute_class_weight("balanced", classes=classes, y=labels)
    return {int(label): float(weight) for label, weight in zip(classes, weights, strict=True)}


def _image_bytes(inputs: ModelInputs) -> int:
    return sum(
        len(column) * column.size * column.size * 3
        for column in inputs.columns.values()
        if isinstance(column, ImagePaths)
    )


def make_dataset(
    inputs: ModelInputs,
    labels: npt.NDArray[Any] | None,
    batch_size: int,
    *,
    shuffle: bool = False,
    shuffle_seed: int = SHUFFLE_SEED,
    transform: Callable[..., Any] | None = None,
) -> Any:
    """Build the ``tf.data`` pipeline feeding ``inputs`` (and ``labels``) to a Keras model.

    Args:
        inputs: The model inputs.
        labels: Class indices or one-hot rows; ``None`` for prediction.
        batch_size: Rows per batch.
        shuffle: Reshuffle the rows every epoch (training).
        shuffle_seed: Seed of the reshuffling (the same seed gives the same order every run).
        transform: Map applied to each ``(features, labels)`` batch (e.g. modality dropout).
            Only for multi-input models: it receives the features dict.

    Returns:
        A dataset of ``features`` dicts (the bare tensor when there is one input), or of
        ``(features, labels)`` pairs.
    """
    import tensorflow as tf  # noqa: PLC0415 - TensorFlow loads only when training

    slices: dict[str, Any] = {}
    sparse_names: list[str] = []
    for name, column in inputs.columns.items():
        if isinstance(column, ImagePaths):
            slices[name] = np.array(column.paths, dtype=str)
        elif sp.issparse(column):
            coo = column.tocoo()
            slices[name] = tf.sparse.reorder(
                tf.SparseTensor(
                    indices=np.stack([coo.row, coo.col], axis=1).astype(np.int64),
                    values=coo.data.astype(np.float32),
                    dense_shape=coo.shape,
                )
            )
            sparse_names.append(name)
        else:
            slices[name] = np.asarray(column, dtype=np.float32)
    images = {
        name: column for name, column in inputs.columns.items() if isinstance(column, ImagePaths)
    }
    elements = (slices, labels) if labels is not None else slices
    dataset = tf.data.Dataset.from_tensor_slices(elements)

    def read_images(features: dict[str, Any], *rest: Any) -> Any:
        features = dict(features)
        for name, column in images.items():

            def load(path: bytes, size: int = column.size) -> npt.NDArray[np.uint8]:
                # An empty path stands for a row without image (its presence flag is 0).
                if not path:
                    return np.zeros((size, size, 3), dtype=np.uint8)
                return load_image_array(path.decode("utf-8"), size)

            image = tf.numpy_function(load, [features[name]], tf.uint8, stateful=False)
            image.set_shape((column.size, column.size, 3))
            features[name] = image
        return (features, *rest) if rest else features

    # The maps have no tensor-dependent Python control flow: AutoGraph is not needed.
    no_autograph = tf.autograph.experimental.do_not_convert
    cache = bool(images) and _image_bytes(inputs) <= CACHE_LIMIT_BYTES
    if shuffle and not cache:
        dataset = dataset.shuffle(len(inputs), seed=shuffle_seed, reshuffle_each_iteration=True)
    if images:
        dataset = dataset.map(
            no_autograph(read_images), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
        )
    if cache:
        dataset = dataset.cache()
    if shuffle and cache:
        dataset = dataset.shuffle(len(inputs), seed=shuffle_seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size)

    single = next(iter(inputs.columns)) if len(inputs.columns) == 1 else None

    def densify(features: dict[str, Any], *rest: Any) -> Any:
        features = dict(features)
        for name in sparse_names:
            features[name] = tf.sparse.to_dense(features[name])
        for name in images:
            features[name] = tf.cast(features[name], tf.float32)
        # A single-input model takes its tensor as is, not in a dict.
        model_input = features[single] if single is not None else features
        return (model_input, *rest) if rest else model_input

    dataset = dataset.map(no_autograph(densify), num_parallel_calls=tf.data.AUTOTUNE)
    if transform is not None:
        dataset = dataset.map(transform, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)


def predict(model: Any, inputs: ModelInputs, batch_size: int) -> npt.NDArray[np.float32]:
    """Run a Keras model over all rows of ``inputs`` and return its outputs."""
    if len(inputs) == 0:
        return np.zeros((0, *model.outputs[0].shape[1:]), dtype=np.float32)
    dataset = make_dataset(inputs, None, batch_size)
    return np.asarray(model.predict(dataset, verbose=0), dtype=np.float32)
