"""The fusion model's part of training: a head over the frozen text and image models' features.

The encoders are frozen, so their features are computed once per row and the head trains on
them (seconds, not an image model's minutes per epoch). Training rows that have both inputs lose
one of them at random (modality dropout); validation and test rows are scored as they are and
with the text only and the image only, so the best checkpoint is the one that answers well in
all three situations.
"""

import logging
import pickle
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import mlflow.pyfunc
import numpy as np
import numpy.typing as npt
from mlflow.exceptions import MlflowException

from product_classifier.data.dataset_folder import image_paths
from product_classifier.models.fusion import (
    IMAGE_EMBEDDING,
    TEXT_EMBEDDING,
    FusionModelDefaults,
    build_fusion_head,
    build_fusion_model,
    feature_extractor,
    modality_dropout,
)
from product_classifier.models.image import IMAGE_FEATURES_LAYER
from product_classifier.models.text import TEXT_FEATURES_LAYER
from product_classifier.serving.contract import ProductInput
from product_classifier.serving.features import (
    IMAGE_INPUT,
    IMAGE_PRESENT,
    TEXT_INPUT,
    TEXT_PRESENT,
    presence_column,
    text_matrix,
)
from product_classifier.serving.pyfunc import ProductClassifier, ServingConfig
from product_classifier.tracking.registry import RegistryError, resolve_model_uri
from product_classifier.training.checkpoints import RunFiles
from product_classifier.training.encoder_sources import encoder_source, report_encoders
from product_classifier.training.errors import TrainingInputError
from product_classifier.training.inputs import ImagePaths, ModelInputs, concatenate, predict
from product_classifier.training.split_data import Rows, SplitData
from product_classifier.training.task import MAIN_VIEW, BuiltModel, LabelledInputs, PreparedTraining
from product_classifier.training.text_task import documents

logger = logging.getLogger(__name__)

TRAIN_PHASE = "train"
TEXT_ONLY_VIEW = "text_only"
IMAGE_ONLY_VIEW = "image_only"


def load_classifier(uri: str, kind: str) -> tuple[str, ProductClassifier]:
    """Resolve and load a logged text or image model.

    Returns:
        The resolved URI (aliases and ``latest`` replaced by the version) and the model.

    Raises:
        TrainingInputError: The URI names nothing, or a model of another kind.
    """
    try:
        resolved = resolve_model_uri(uri)
        classifier = mlflow.pyfunc.load_model(resolved).unwrap_python_model()
    except RegistryError as error:
        raise TrainingInputError(f"--{kind}-model-uri {uri}: {error}") from None
    except (MlflowException, OSError) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise TrainingInputError(f"--{kind}-model-uri {uri} cannot be loaded: {message}") from None
    config = getattr(classifier, "config", None)
    if not isinstance(classifier, ProductClassifier) or config is None or config.kind != kind:
        found = config.kind if config is not None else type(classifier).__name__
        raise TrainingInputError(
            f"--{kind}-model-uri {uri} is not a model of kind {kind} (its kind is {found})."
        )
    return resolved, classifier


@dataclass(frozen=True)
class _RowFeatures:
    """Raw served-model inputs and frozen-encoder features of some rows."""

    served: ModelInputs
    head: ModelInputs
    labels: npt.NDArray[np.int32]
    has_text: npt.NDArray[np.bool_]
    has_image: npt.NDArray[np.bool_]


def _views(
    features: ModelInputs, labels: npt.NDArray[np.int32], has_text: Any, has_image: Any
) -> dict[str, LabelledInputs]:
    """Return the rows as they are, with the text only, and with the image only."""

    def view(rows: npt.NDArray[np.bool_], **flags: npt.NDArray[np.float32]) -> LabelledInputs:
        positions = np.flatnonzero(rows)
        columns = {name: _take(column, positions) for name, column in features.columns.items()}
        columns.update({name: value[positions] for name, value in flags.items()})
        return LabelledInputs(ModelInputs(columns), labels[positions])

    count = len(labels)
    zeros = np.zeros((count, 1), dtype=np.float32)
    return {
        MAIN_VIEW: view(np.ones(count, dtype=bool)),
        TEXT_ONLY_VIEW: view(has_text, **{IMAGE_PRESENT: zeros}),
        IMAGE_ONLY_VIEW: view(has_image, **{TEXT_PRESENT: zeros}),
    }


def _take(column: Any, positions: npt.NDArray[np.intp]) -> Any:
    if isinstance(column, ImagePaths):
        return ImagePaths(tuple(column.paths[index] for index in positions), column.size)
    return column[positions]


@dataclass(frozen=True)
class FusionTask:
    """Train the fusion head over a logged text model and a logged image model.

    Attributes:
        text_model_uri: The text model (``models:/text/3``, ``models:/text@production``...).
        image_model_uri: The image model.
        defaults: Hyper-parameters of the head.
    """

    text_model_uri: str
    image_model_uri: str
    defaults: FusionModelDefaults = field(default_factory=FusionModelDefaults)
    kind: str = "fusion"

    def prepare(self, data: SplitData, files: RunFiles, batch_size: int) -> PreparedTraining:
        """Load both models, compute their features for every row and describe the head."""
        text_uri, text_model = load_classifier(self.text_model_uri, "text")
        image_uri, image_model = load_classifier(self.image_model_uri, "image")
        sources = [encoder_source("text", text_uri), encoder_source("image", image_uri)]
        source_params = report_encoders(sources, data.dataset_dir, data.test.X)
        image_size = image_model.config.image_size if image_model.config else None
        if image_size is None:
            raise TrainingInputError(f"--image-model-uri {self.image_model_uri} has no image size.")
        text_encoder = feature_extractor(
            text_model.keras_model, TEXT_FEATURES_LAYER, "text_encoder"
        )
        image_encoder = feature_extractor(
            image_model.keras_model, IMAGE_FEATURES_LAYER, "image_encoder"
        )
        featurizer = text_model.featurizer

        def row_features(rows: Rows) -> _RowFeatures:
            tfidf = text_matrix(featurizer, documents(rows)).tocsr()
            has_text = np.array(
                [
                    ProductInput(designation=str(a), description=str(b)).has_text
                    for a, b in zip(rows.X["designation"], rows.X["description"], strict=True)
                ],
                dtype=bool,
            )
            paths = image_paths(data.dataset_dir, rows.X)
            has_image = np.array([path.is_file() for path in paths], dtype=bool)
            images = ImagePaths(
                tuple(
                    str(path) if present else ""
                    for path, present in zip(paths, has_image, strict=True)
                ),
                image_size,
            )
            text_features = predict(text_encoder, ModelInputs({TEXT_INPUT: tfidf}), batch_size)
            image_features = np.zeros(
                (len(rows), int(image_encoder.outputs[0].shape[-1])), dtype=np.float32
            )
            if has_image.any():
                present = np.flatnonzero(has_image)
                image_features[present] = predict(
                    image_encoder, ModelInputs({IMAGE_INPUT: _take(images, present)}), batch_size
                )
            flags = {
                TEXT_PRESENT: presence_column(has_text),
                IMAGE_PRESENT: presence_column(has_image),
            }
            return _RowFeatures(
                served=ModelInputs({TEXT_INPUT: tfidf, IMAGE_INPUT: images, **flags}),
                head=ModelInputs(
                    {TEXT_EMBEDDING: text_features, IMAGE_EMBEDDING: image_features, **flags}
                ),
                labels=rows.labels,
                has_text=has_text,
                has_image=has_image,
            )

        logger.info("Computing the text and image features of the training rows.")
        train = row_features(data.train)
        validation = row_features(data.validation)
        test = row_features(data.test)
        validation_views = _views(
            validation.head, validation.labels, validation.has_text, validation.has_image
        )
        test_views = _views(test.served, test.labels, test.has_text, test.has_image)
        featurizer_path = files.output_dir / "text_featurizer.pkl"
        with featurizer_path.open("wb") as file:
            pickle.dump(featurizer, file)
        text_dim = int(train.head.columns[TEXT_EMBEDDING].shape[1])
        image_dim = int(train.head.columns[IMAGE_EMBEDDING].shape[1])

        def build() -> BuiltModel:
            return BuiltModel(build_fusion_head(text_dim, image_dim, self.defaults), [TRAIN_PHASE])

        return PreparedTraining(
            train=LabelledInputs(train.head, train.labels),
            validation=_stack(list(validation_views.values())),
            test_views={name: view for name, view in test_views.items() if len(view)},
            build=build,
            setups={TRAIN_PHASE: None},
            serving_config=ServingConfig(
                kind=self.kind,
                inputs=(TEXT_INPUT, IMAGE_INPUT, TEXT_PRESENT, IMAGE_PRESENT),
                image_size=image_size,
            ),
            finalize=lambda head, _rows: build_fusion_model(text_encoder, image_encoder, head),
            featurizer_path=featurizer_path,
            train_transform=modality_dropout(
                self.defaults.text_drop_rate, self.defaults.image_drop_rate
            ),
            params={
                "text_model_resolved": text_uri,
                "image_model_resolved": image_uri,
                **source_params,
                "image_size": image_size,
                "train_rows_with_image": int(train.has_image.sum()),
                "text_drop_rate": self.defaults.text_drop_rate,
                "image_drop_rate": self.defaults.image_drop_rate,
            },
        )


def _stack(parts: Sequence[LabelledInputs]) -> LabelledInputs:
    kept = [part for part in parts if len(part)]
    return LabelledInputs(
        concatenate([part.inputs for part in kept]), np.concatenate([part.labels for part in kept])
    )


def default_model_uri(name: str) -> str:
    """Return the URI of the latest version of a registered model (resolved when loading)."""
    return f"models:/{name}/latest"
