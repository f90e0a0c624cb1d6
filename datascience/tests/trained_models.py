"""Session fixtures shared by the test modules: a generated sample and three tiny real models.

One generated original folder (300 products, 500x500 images), its dataset (32x32 images), and a
text, image and fusion model trained on it with the real CLIs (1-2 epochs) into the session's
MLflow store. ``conftest.py`` imports them, so every module shares one training per session.
"""

from dataclasses import dataclass
from pathlib import Path

import pytest

from product_classifier.settings import get_platform_settings

IMAGE_SIZE = 32


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
    """Text (2 epochs), image (pretrained-path: head + fine-tune, 1 epoch each), fusion (2)."""
    from product_classifier.models.image import build_backbone
    from scripts import train_fusion_model, train_image_model, train_text_model

    output = tmp_path_factory.mktemp("training-output")
    weights = output / "backbone.weights.h5"
    build_backbone(IMAGE_SIZE, "none").model.save_weights(weights)
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
