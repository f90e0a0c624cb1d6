"""Session fixtures shared by the test modules: a generated sample and three tiny real models.

One generated original folder (300 products, 500x500 images), its dataset (32x32 images), and a
text, image and fusion model trained on it with the real CLIs (1-2 epochs) into the session's
MLflow store. ``conftest.py`` imports them, so every module shares one training per session.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from product_classifier.settings import get_platform_settings

IMAGE_SIZE = 32
BACKBONE_WEIGHTS = "backbone.weights.h5"
"""File (in the training output folder) of the backbone weights the image model starts from."""


@dataclass(frozen=True)
class Trained:
    dataset: Path
    output: Path
    tracking_uri: str

    @property
    def original(self) -> Path:
        """The generated original folder the dataset was made from (X.csv, y.csv, images/)."""
        return self.dataset.parent / "original"


def run_main(main, argv: list[object]) -> int:
    """Call a CLI's ``main`` with its arguments as strings; return its exit status."""
    return int(main([str(arg) for arg in argv]))


def load_served(uri: str, runtime: str) -> Any:
    """Load a logged model with ``mlflow.pyfunc`` on a runtime; return our ProductClassifier."""
    import mlflow

    from product_classifier.serving.pyfunc import ProductClassifier
    from product_classifier.serving.runtime import RUNTIME_VARIABLE

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(RUNTIME_VARIABLE, runtime)
        model = mlflow.pyfunc.load_model(uri).unwrap_python_model()
    assert isinstance(model, ProductClassifier)
    return model


def distinctive_values(weights: list[Any]) -> list[Any]:
    """Shift and scale backbone weights so that no random initialisation could give them."""
    return [value * 1.5 + 0.01 for value in weights]


def write_distinctive_backbone_weights(path: Path) -> None:
    """Save MobileNetV2 backbone weights (for ``IMAGE_SIZE`` images) with distinctive values."""
    from product_classifier.models.image import build_backbone

    backbone = build_backbone(IMAGE_SIZE, "none").model
    backbone.set_weights(distinctive_values(backbone.get_weights()))
    backbone.save_weights(path)


@pytest.fixture(scope="session")
def dataset(tmp_path_factory) -> Path:
    from scripts import create_datasets, make_sample_dataset

    root = tmp_path_factory.mktemp("training-data")
    original: Path = root / "original"
    folder: Path = root / "dataset"
    assert (
        run_main(
            make_sample_dataset.main, ["--output-dir", original, "--n-products", 300, "--seed", 5]
        )
        == 0
    )
    assert (
        run_main(
            create_datasets.main,
            ["--input-dir", original, "--output-dir", folder, "--image-size", IMAGE_SIZE],
        )
        == 0
    )
    return folder


@pytest.fixture(scope="session")
def trained(dataset, tmp_path_factory) -> Trained:
    """Text (2 epochs), image (from a local weights file: head + fine-tune, 1 epoch each), fusion.

    The image model starts from :data:`BACKBONE_WEIGHTS`, a backbone weights file with
    distinctive values, as ``--weights PATH`` loads ImageNet weights saved on another machine.
    """
    from scripts import train_fusion_model, train_image_model, train_text_model

    output = tmp_path_factory.mktemp("training-output")
    weights = output / BACKBONE_WEIGHTS
    write_distinctive_backbone_weights(weights)
    common = ["--input-dir", dataset, "--batch-size", 64]
    assert (
        run_main(train_text_model.main, [*common, "--output-dir", output / "text", "--epochs", 2])
        == 0
    )
    assert (
        run_main(
            train_image_model.main,
            [
                *common,
                "--output-dir",
                output / "image",
                "--epochs",
                1,
                "--image-size",
                IMAGE_SIZE,
                "--weights",
                weights,
                "--set-staging",
            ],
        )
        == 0
    )
    assert (
        run_main(
            train_fusion_model.main, [*common, "--output-dir", output / "fusion", "--epochs", 2]
        )
        == 0
    )
    return Trained(dataset, output, get_platform_settings().tracking_uri)
