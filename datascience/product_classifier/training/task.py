"""What a model kind contributes to the shared training pipeline.

A task turns the dataset rows into model inputs and says how to build, train (phases), finish
and package its model; :func:`product_classifier.training.pipeline.run_training` does the rest
the same way for every kind.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from product_classifier.serving.pyfunc import ServingConfig
from product_classifier.training.checkpoints import RunFiles
from product_classifier.training.inputs import ModelInputs
from product_classifier.training.runner import PhaseSetup
from product_classifier.training.split_data import SplitData

MAIN_VIEW = ""
"""Name of the main test view (its metrics are ``test_accuracy`` and ``test_f1_weighted``)."""


@dataclass(frozen=True)
class LabelledInputs:
    """Model inputs and the true class indices of the same rows."""

    inputs: ModelInputs
    labels: npt.NDArray[np.int32]

    def __len__(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class BuiltModel:
    """A new model, the names of its training phases and what to log about how it was built."""

    model: Any
    phases: list[str]
    params: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class PreparedTraining:
    """Everything the pipeline needs from a task.

    Attributes:
        train: Rows the model is fitted on (in the trained model's input format).
        validation: Rows for early stopping and the best checkpoint.
        test_views: Test rows by view name, in the *served* model's input format;
            :data:`MAIN_VIEW` is the main score, other views give ``test_{view}_*`` metrics.
        build: Builds a new model (not called when a run resumes from a checkpoint).
        setups: Set-up of each phase name (``None``: train the model as compiled).
        serving_config: Configuration of the logged pyfunc model.
        finalize: Turns the trained model into the served one, given the rows it was trained
            on (the training rows, with the validation rows after a refit): identity except
            for fusion and the text model's linear ensemble.
        featurizer_path: Pickled TF-IDF featurizer for models reading text.
        train_transform: Map applied to training batches (e.g. modality dropout).
        params: What to log about the preparation (sizes, resolved model URIs...).
        balance_classes: Weight the loss so that every category counts as much in total
            (:func:`~product_classifier.training.inputs.balanced_class_weights` of the rows
            trained on).
    """

    train: LabelledInputs
    validation: LabelledInputs
    test_views: Mapping[str, LabelledInputs]
    build: Callable[[], BuiltModel]
    setups: Mapping[str, PhaseSetup | None]
    serving_config: ServingConfig
    finalize: Callable[[Any, LabelledInputs], Any] = lambda model, rows: model
    featurizer_path: Path | None = None
    train_transform: Callable[..., Any] | None = None
    params: Mapping[str, object] = field(default_factory=dict)
    balance_classes: bool = False


class TrainingTask(Protocol):
    """One model kind's part of training."""

    @property
    def kind(self) -> str:
        """``text``, ``image`` or ``fusion``."""
        ...

    def prepare(self, data: SplitData, files: RunFiles, batch_size: int) -> PreparedTraining:
        """Featurize the rows and describe how to build, train and package the model.

        Raises:
            TrainingInputError: The dataset or the other inputs do not suit this model.
        """
        ...
