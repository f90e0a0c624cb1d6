"""The one MLflow python model behind the text, image and fusion models.

The three kinds differ only by configuration (:class:`ServingConfig`): which inputs the Keras
model takes (TF-IDF text vector, image, presence flags) and the image size. The logged model
carries its artifacts (the ``.keras`` model, the TF-IDF featurizer when it reads text, pickled
and as JSON tables read without scikit-learn, the JSON configuration) and this package as code,
so it loads in a process that has only the runtime dependencies.

Rows without any input the model reads (no text for the text model, no image for the image
model, neither for the fusion model) get uniform probabilities (100/27 % each): the model has no
information about them, and saying so is more honest than answering from its biases.

The model runs on ONNX Runtime when the logged model carries its ONNX export (no TensorFlow in
the process; the text input's first layer as a sparse product), else on Keras; the
``MODEL_RUNTIME`` environment variable can force either (:mod:`product_classifier.serving.runtime`).
Neither calls ``keras.Model.predict`` (tens of milliseconds of overhead per call), and the model
is warmed up when it loads. This module imports neither TensorFlow nor Keras.
"""

import json
import logging
import pickle
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from mlflow.pyfunc.model import PythonModel

from product_classifier.categories import CATEGORY_CODES, NUM_CATEGORIES
from product_classifier.preprocessing.image import ImageDecodingError, load_rgb_image
from product_classifier.serving.batch import ModelBatch
from product_classifier.serving.contract import (
    INPUT_COLUMNS,
    Prediction,
    ProductInput,
    cell_text,
    probabilities_to_predictions,
)
from product_classifier.serving.fast_tfidf import FastTfidf
from product_classifier.serving.features import (
    IMAGE_INPUT,
    IMAGE_PRESENT,
    TEXT_INPUT,
    TEXT_PRESENT,
    image_batch,
    presence_column,
    product_documents,
    text_matrix,
)
from product_classifier.serving.runtime import Runtime, requested_runtime, resolve_runtime
from product_classifier.serving.tfidf_tables import read_fast_tfidf

logger = logging.getLogger(__name__)

MODEL_ARTIFACT: Final = "keras_model"
ONNX_ARTIFACT: Final = "onnx_model"
FEATURIZER_ARTIFACT: Final = "text_featurizer"
TFIDF_TABLES_ARTIFACT: Final = "text_tfidf_tables"
"""The featurizer's vocabularies and weights in JSON, read without scikit-learn
(:mod:`~product_classifier.serving.tfidf_tables`). Models logged before it have only the pickle."""
CONFIG_ARTIFACT: Final = "config"
CONFIG_FORMAT_VERSION: Final = 1


@dataclass(frozen=True)
class ServingConfig:
    """What distinguishes the three kinds of models at prediction time.

    Attributes:
        kind: ``text``, ``image`` or ``fusion``.
        inputs: Names of the Keras model's inputs (see :mod:`product_classifier.serving.features`).
        image_size: Side of the square images the model reads (``None`` without image input).
        class_codes: Category code of each output, in order (must be the category table's).
    """

    kind: str
    inputs: tuple[str, ...]
    image_size: int | None = None
    class_codes: tuple[int, ...] = field(default=CATEGORY_CODES)
    format_version: int = CONFIG_FORMAT_VERSION

    @property
    def reads_text(self) -> bool:
        """Whether the model reads the product text."""
        return TEXT_INPUT in self.inputs

    @property
    def reads_image(self) -> bool:
        """Whether the model reads the product image."""
        return IMAGE_INPUT in self.inputs

    def to_json(self) -> str:
        """Serialise to JSON (saved as the model's ``config`` artifact)."""
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "ServingConfig":
        """Parse what :meth:`to_json` wrote."""
        values = json.loads(text)
        return cls(
            kind=str(values["kind"]),
            inputs=tuple(values["inputs"]),
            image_size=values.get("image_size"),
            class_codes=tuple(int(code) for code in values["class_codes"]),
            format_version=int(values.get("format_version", CONFIG_FORMAT_VERSION)),
        )


class InvalidInputError(MlflowException):
    """A request row cannot be read (e.g. its image path is not a readable image)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, error_code=INVALID_PARAMETER_VALUE)


class ProductClassifier(PythonModel):
    """Generic product classifier: text, image or fusion depending on its configuration.

    Implements :class:`product_classifier.serving.contract.ProductPredictor`.
    """

    def __init__(self) -> None:
        self.config: ServingConfig | None = None
        self.runtime: Runtime | None = None
        self._artifacts: dict[str, str] = {}
        self._runner: Any = None
        self._keras_model: Any = None
        self._featurizer: Any = None
        self._fast_featurizer: FastTfidf | None = None

    # --- loading -------------------------------------------------------------------------

    def load_context(self, context: Any) -> None:
        """Load the artifacts of a logged model (called by ``mlflow.pyfunc.load_model``)."""
        self.load_artifacts(context.artifacts)

    def load_artifacts(self, artifacts: Mapping[str, str]) -> None:
        """Load the model on its runtime, the featurizer and the configuration, then warm up.

        Args:
            artifacts: Local paths by artifact name (:data:`MODEL_ARTIFACT`,
                :data:`CONFIG_ARTIFACT`, for models reading text :data:`FEATURIZER_ARTIFACT`
                and, when logged with it, :data:`TFIDF_TABLES_ARTIFACT`; :data:`ONNX_ARTIFACT`
                when the model was exported to ONNX). On ONNX with the TF-IDF tables, the
                pickled featurizer (and scikit-learn) is loaded only if :attr:`featurizer` is
                asked for.

        Raises:
            ValueError: The artifacts do not fit together or not this category table, or
                ``MODEL_RUNTIME`` asks for a runtime the model cannot run on.
        """
        config = ServingConfig.from_json(Path(artifacts[CONFIG_ARTIFACT]).read_text("utf-8"))
        if config.class_codes != CATEGORY_CODES:
            raise ValueError("The model was trained on another category table than this code's.")
        runtime = resolve_runtime(requested_runtime(), ONNX_ARTIFACT in artifacts)
        runner: Any
        if runtime is Runtime.ONNX:
            from product_classifier.serving.onnx_runner import OnnxRunner  # noqa: PLC0415

            sparse_input = TEXT_INPUT if config.reads_text else None
            runner = OnnxRunner(artifacts[ONNX_ARTIFACT], sparse_input=sparse_input)
        else:
            from product_classifier.serving.keras_runner import KerasRunner  # noqa: PLC0415

            runner = KerasRunner(artifacts[MODEL_ARTIFACT])
            self._keras_model = runner.model
        if set(runner.input_names) != set(config.inputs):
            raise ValueError(
                f"Model inputs {sorted(runner.input_names)} differ from the configured "
                f"{config.inputs}."
            )
        self.config = config
        self.runtime = runtime
        self._artifacts = dict(artifacts)
        self._runner = runner
        self._featurizer = None
        self._fast_featurizer = None
        if config.reads_text:
            if runtime is Runtime.ONNX and TFIDF_TABLES_ARTIFACT in artifacts:
                self._fast_featurizer = read_fast_tfidf(artifacts[TFIDF_TABLES_ARTIFACT])
            else:
                self._fast_featurizer = FastTfidf.from_featurizer(self.featurizer)
        # Run once now, so that the first request is as fast as the next ones.
        self.predict_probabilities([ProductInput(designation="warm up")])
        logger.info(
            "Loaded the %s model on %s (inputs: %s).",
            config.kind,
            runtime.value,
            ", ".join(config.inputs),
        )

    @property
    def keras_model(self) -> Any:
        """The Keras model (the fusion model reuses text and image models' layers).

        Loaded from the logged ``.keras`` file on first use when the model runs on ONNX.
        """
        self._loaded_config()
        if self._keras_model is None:
            if MODEL_ARTIFACT not in self._artifacts:
                raise RuntimeError("This model was loaded without its Keras file (ONNX only).")
            import keras  # noqa: PLC0415 - only training needs the Keras model itself

            self._keras_model = keras.saving.load_model(
                self._artifacts[MODEL_ARTIFACT], compile=False
            )
        return self._keras_model

    @property
    def artifact_paths(self) -> dict[str, str]:
        """Local paths of the loaded artifacts, by artifact name."""
        return dict(self._artifacts)

    @property
    def runner(self) -> Any:
        """What runs the model: an ``OnnxRunner`` or a ``KerasRunner``."""
        self._loaded_config()
        return self._runner

    @property
    def featurizer(self) -> Any:
        """The fitted TF-IDF featurizer (``None`` for a model that does not read text).

        Unpickled on first use (with scikit-learn) when the model serves from its TF-IDF tables.
        """
        if self._featurizer is None and self.config is not None and self.config.reads_text:
            with Path(self._artifacts[FEATURIZER_ARTIFACT]).open("rb") as file:
                self._featurizer = pickle.load(file)  # noqa: S301 - our own artifact
        return self._featurizer

    # --- prediction ----------------------------------------------------------------------

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> list[Prediction]:
        """Predict the categories of the rows of a DataFrame (the pyfunc interface).

        Args:
            context: Unused (artifacts were loaded by :meth:`load_context`).
            model_input: Columns ``product_id`` (ignored), ``designation``, ``description`` and
                ``image_path`` (path of a JPEG); any may be missing or empty.
            params: Unused.

        Returns:
            For each row, the 27 categories with their probability in percent, highest first.

        Raises:
            InvalidInputError: The input has none of the contract's columns (MLflow drops the
                columns the signature does not list, so such a request reaches the model as
                an empty table), a text cell is bytes that are not UTF-8, or an image path
                does not point to a readable image (only for a model that reads images; the
                text model ignores ``image_path``).
        """
        del context, params
        config = self._loaded_config()
        return self.predict_products(
            dataframe_products(model_input, read_images=config.reads_image)
        )

    def predict_products(self, products: Sequence[ProductInput]) -> list[Prediction]:
        """Predict decoded products in one model call (the API's interface)."""
        return probabilities_to_predictions(self.predict_probabilities(products))

    def predict_probabilities(self, products: Sequence[ProductInput]) -> npt.NDArray[np.float64]:
        """Return the ``(n, 27)`` probabilities of products, computed in one model call."""
        config = self._loaded_config()
        if not products:
            return np.zeros((0, NUM_CATEGORIES), dtype=np.float64)
        has_text = [product.has_text for product in products]
        has_image = [product.image is not None for product in products]
        probabilities = np.asarray(self._runner(self.features(products)), dtype=np.float64)
        informative = np.array(
            [
                (config.reads_text and text) or (config.reads_image and image)
                for text, image in zip(has_text, has_image, strict=True)
            ]
        )
        probabilities[~informative] = 1.0 / NUM_CATEGORIES
        return probabilities

    def features(self, products: Sequence[ProductInput]) -> ModelBatch:
        """Build the model's input batch for products (text, image, presence flags).

        The text input is a scipy sparse ``(n, features)`` float32 matrix; the others are dense
        float32 arrays (see :mod:`product_classifier.serving.features`).
        """
        config = self._loaded_config()
        batch: dict[str, Any] = {}
        if config.reads_text:
            documents = product_documents(
                [product.designation for product in products],
                [product.description for product in products],
            )
            batch[TEXT_INPUT] = (
                self._fast_featurizer.transform(documents)
                if self._fast_featurizer is not None
                else text_matrix(self.featurizer, documents)
            )
        if config.reads_image:
            if config.image_size is None:
                raise ValueError("An image model needs an image size in its configuration.")
            batch[IMAGE_INPUT] = image_batch(
                [product.image for product in products], config.image_size
            )
        if TEXT_PRESENT in config.inputs:
            batch[TEXT_PRESENT] = presence_column([product.has_text for product in products])
        if IMAGE_PRESENT in config.inputs:
            batch[IMAGE_PRESENT] = presence_column(
                [product.image is not None for product in products]
            )
        return batch

    def _loaded_config(self) -> ServingConfig:
        if self.config is None:
            raise RuntimeError("The model is not loaded: call load_artifacts() first.")
        return self.config


def dataframe_products(frame: pd.DataFrame, *, read_images: bool = True) -> list[ProductInput]:
    """Read request rows into products, loading each non-empty ``image_path``.

    Cells are read as the catalogue scoring reads them
    (:func:`~product_classifier.serving.contract.cell_text`: a number is its decimal writing).

    Args:
        frame: Rows with some of the columns ``product_id``, ``designation``, ``description``
            and ``image_path``.
        read_images: Load the images (``False`` for a model that reads only text: its
            ``image_path`` cells are ignored, not even checked).

    Raises:
        InvalidInputError: ``frame`` has none of the contract's columns, a text cell is bytes
            that are not UTF-8, or an image path does not point to a readable image.
    """
    if len(frame.columns) == 0 or not set(frame.columns) & set(INPUT_COLUMNS):
        raise InvalidInputError(
            f"The input has none of the columns {', '.join(INPUT_COLUMNS)}: nothing to predict "
            "from (columns the model's signature does not list are dropped)."
        )

    def column(name: str) -> list[str]:
        if name not in frame.columns:
            return [""] * len(frame)
        try:
            return [cell_text(value) for value in frame[name].tolist()]
        except UnicodeDecodeError:
            raise InvalidInputError(f"A {name} cell is bytes that are not UTF-8 text.") from None

    paths = column("image_path") if read_images else [""] * len(frame)
    products = []
    for designation, description, image_path in zip(
        column("designation"), column("description"), paths, strict=True
    ):
        image = None
        if image_path.strip():
            try:
                image = load_rgb_image(Path(image_path.strip()))
            except ImageDecodingError as error:
                raise InvalidInputError(str(error)) from None
        products.append(ProductInput(designation=designation, description=description, image=image))
    return products
