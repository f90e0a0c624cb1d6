"""The text model's part of training: TF-IDF featurizer fitted on the training rows, dense head."""

import logging
import pickle
from dataclasses import dataclass
from typing import Any

from product_classifier.models.text import (
    TEXT_MODEL_DEFAULTS,
    build_text_featurizer,
    build_text_model,
    fit_linear_ensemble,
)
from product_classifier.serving.features import TEXT_INPUT, product_documents, text_matrix
from product_classifier.serving.pyfunc import ServingConfig
from product_classifier.training.checkpoints import RunFiles
from product_classifier.training.errors import TrainingInputError
from product_classifier.training.inputs import ModelInputs
from product_classifier.training.split_data import Rows, SplitData
from product_classifier.training.task import MAIN_VIEW, BuiltModel, LabelledInputs, PreparedTraining

logger = logging.getLogger(__name__)

TRAIN_PHASE = "train"


def documents(rows: Rows) -> list[str]:
    """Return the raw text of each row as the featurizer reads it."""
    return product_documents(rows.X["designation"].tolist(), rows.X["description"].tolist())


def _rows_with_text(rows: Rows, part: str) -> Rows:
    """The rows with text, saying how many image-only rows were left out."""
    kept = rows.with_text()
    if len(kept) < len(rows):
        logger.info(
            "%d %s rows have no text (image only) and are left out.", len(rows) - len(kept), part
        )
    if not len(kept):
        raise TrainingInputError(f"No {part} row has a designation or a description.")
    return kept


@dataclass(frozen=True)
class TextTask:
    """Train the text model on the dataset's CSV files (no images needed).

    Attributes:
        kind: The model kind.
        word_vectors: Source of the pretrained word vectors beside the TF-IDF features, or
            ``None`` (see :func:`~product_classifier.models.text.build_text_featurizer`).
        linear_ensemble: Serve the trained MLP averaged with a class-balanced LinearSVC fitted
            on the same features of the rows it was trained on
            (:func:`~product_classifier.models.text.fit_linear_ensemble`).
    """

    kind: str = "text"
    word_vectors: str | None = TEXT_MODEL_DEFAULTS.word_vectors
    linear_ensemble: bool = TEXT_MODEL_DEFAULTS.linear_ensemble

    def _finalize(self, model: Any, rows: LabelledInputs) -> Any:
        """The served model: the MLP, or its linear ensemble fitted on ``rows``."""
        if not self.linear_ensemble:
            return model
        logger.info("Fitting the linear ensemble's LinearSVC on %d rows.", len(rows))
        return fit_linear_ensemble(model, rows.inputs.columns[TEXT_INPUT], rows.labels)

    def prepare(self, data: SplitData, files: RunFiles, batch_size: int) -> PreparedTraining:
        """Fit the featurizer on the training rows and vectorise every split.

        Rows without text (the image-only rows of a mixed dataset) are left out of every split.

        Raises:
            TrainingInputError: A split has no row with text.
        """
        del batch_size
        train_rows, validation_rows, test_rows = (
            _rows_with_text(rows, part)
            for rows, part in (
                (data.train, "training"),
                (data.validation, "validation"),
                (data.test, "test"),
            )
        )
        featurizer = build_text_featurizer(word_vectors=self.word_vectors)
        try:
            featurizer.fit(documents(train_rows))
        except ValueError as error:  # word vectors that cannot be read
            raise TrainingInputError(str(error)) from error
        featurizer_path = files.output_dir / "text_featurizer.pkl"
        with featurizer_path.open("wb") as file:
            pickle.dump(featurizer, file)

        def labelled(rows: Rows) -> LabelledInputs:
            matrix = text_matrix(featurizer, documents(rows)).tocsr()
            return LabelledInputs(ModelInputs({TEXT_INPUT: matrix}), rows.labels)

        train = labelled(train_rows)
        input_dim = int(train.inputs.columns[TEXT_INPUT].shape[1])
        logger.info("TF-IDF vocabulary: %d features.", input_dim)

        def build() -> BuiltModel:
            model: Any = build_text_model(input_dim)
            return BuiltModel(model, [TRAIN_PHASE])

        return PreparedTraining(
            train=train,
            validation=labelled(validation_rows),
            test_views={MAIN_VIEW: labelled(test_rows)},
            build=build,
            setups={TRAIN_PHASE: None},
            serving_config=ServingConfig(kind=self.kind, inputs=(TEXT_INPUT,)),
            finalize=self._finalize,
            featurizer_path=featurizer_path,
            params={
                "text_linear_ensemble": self.linear_ensemble,
                "text_features": input_dim,
                "text_wide_path": TEXT_MODEL_DEFAULTS.wide,
                "text_label_smoothing": TEXT_MODEL_DEFAULTS.label_smoothing,
                "balance_classes": TEXT_MODEL_DEFAULTS.balance_classes,
                "text_towers": TEXT_MODEL_DEFAULTS.towers,
                "text_title_features": TEXT_MODEL_DEFAULTS.title_features,
                "text_word_vectors": self.word_vectors or "none",
                "text_hidden_units": TEXT_MODEL_DEFAULTS.hidden_units,
            },
            balance_classes=TEXT_MODEL_DEFAULTS.balance_classes,
        )
