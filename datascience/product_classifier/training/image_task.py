"""The image model's part of training: optimised images in, MobileNetV2 classifier out."""

import logging
from dataclasses import dataclass
from pathlib import Path

from product_classifier.data.dataset_folder import has_images, image_paths
from product_classifier.models.image import (
    IMAGENET,
    MIN_IMAGE_SIZE,
    NO_WEIGHTS,
    WeightsError,
    build_backbone,
    build_image_model,
    image_training_phases,
    phase_names,
)
from product_classifier.serving.features import IMAGE_INPUT
from product_classifier.serving.pyfunc import ServingConfig
from product_classifier.training.checkpoints import RunFiles
from product_classifier.training.errors import TrainingInputError
from product_classifier.training.inputs import ImagePaths, ModelInputs
from product_classifier.training.split_data import Rows, SplitData
from product_classifier.training.task import MAIN_VIEW, BuiltModel, LabelledInputs, PreparedTraining

logger = logging.getLogger(__name__)


def check_weights_option(weights: str) -> None:
    """Fail early on a ``--weights`` value that is neither a keyword nor an existing file.

    Raises:
        TrainingInputError: ``weights`` names a file that does not exist.
    """
    if weights.strip().lower() in {IMAGENET, NO_WEIGHTS}:
        return
    if not Path(weights).expanduser().is_file():
        raise TrainingInputError(
            f"--weights {weights}: expected 'imagenet', 'none' or a weights file."
        )


@dataclass(frozen=True)
class ImageTask:
    """Train the image model on the dataset's optimised images.

    Attributes:
        image_size: Side of the square images the model reads.
        augmentation: Add random flip, rotation and zoom layers.
        weights: ``imagenet``, ``none`` or a backbone weights file.
    """

    image_size: int
    augmentation: bool = True
    weights: str = IMAGENET
    kind: str = "image"

    def labelled(self, dataset_dir: Path, rows: Rows, part: str) -> LabelledInputs:
        """Return the rows whose image file exists, as model inputs."""
        paths = image_paths(dataset_dir, rows.X)
        present = [index for index, path in enumerate(paths) if path.is_file()]
        if len(present) < len(paths):
            # Normal in a mixed dataset (text-only rows), as the text model leaves image-only out.
            logger.info(
                "%d %s rows have no image (text only) and are left out.",
                len(paths) - len(present),
                part,
            )
        if not present:
            raise TrainingInputError(f"No {part} row of {dataset_dir} has its image file.")
        selected = ImagePaths(tuple(str(paths[index]) for index in present), self.image_size)
        return LabelledInputs(ModelInputs({IMAGE_INPUT: selected}), rows.labels[present])

    def prepare(self, data: SplitData, files: RunFiles, batch_size: int) -> PreparedTraining:
        """List the image files of every split and describe the phases."""
        del files, batch_size
        if self.image_size < MIN_IMAGE_SIZE:
            raise TrainingInputError(f"--image-size must be at least {MIN_IMAGE_SIZE}.")
        check_weights_option(self.weights)
        if not has_images(data.dataset_dir):
            raise TrainingInputError(
                f"The dataset in {data.dataset_dir} has no images/ folder (made with --text-only?)."
            )

        def build() -> BuiltModel:
            try:
                backbone = build_backbone(self.image_size, self.weights)
            except WeightsError as error:
                raise TrainingInputError(str(error)) from None
            model = build_image_model(self.image_size, backbone, augmentation=self.augmentation)
            phases = phase_names(backbone)
            params = {"weights_loaded": backbone.weights, "phases": ",".join(phases)}
            return BuiltModel(model, phases, params)

        return PreparedTraining(
            train=self.labelled(data.dataset_dir, data.train, "training"),
            validation=self.labelled(data.dataset_dir, data.validation, "validation"),
            test_views={MAIN_VIEW: self.labelled(data.dataset_dir, data.test, "test")},
            build=build,
            setups=image_training_phases(),
            serving_config=ServingConfig(
                kind=self.kind, inputs=(IMAGE_INPUT,), image_size=self.image_size
            ),
        )
