"""Train the image model on a dataset folder, track it in MLflow and register a new version.

Usage (from ``datascience/``)::

    python -m scripts.train_image_model --input-dir var/datasets/sample --image-size 224
"""

import argparse
import sys
from typing import TYPE_CHECKING

from product_classifier.preprocessing.image import DEFAULT_IMAGE_SIZE
from scripts.cli_support import (
    backbone_weights,
    image_side,
    run_training_cli,
    training_parser,
)

if TYPE_CHECKING:
    from product_classifier.training.image_task import ImageTask


def build_parser() -> argparse.ArgumentParser:
    """Return the CLI's argument parser."""
    parser = training_parser(
        "image",
        "Train the image model (MobileNetV2 → global average pooling → softmax; with pretrained "
        "weights the head is trained first, backbone frozen, then everything is fine-tuned at a "
        "low learning rate), log it to MLflow and register it as a new version of 'image'.",
    )
    parser.add_argument(
        "--no-data-augmentation",
        dest="data_augmentation",
        action="store_false",
        help="train without the random flip, rotation and zoom layers",
    )
    parser.add_argument(
        "--image-size",
        type=image_side,
        default=DEFAULT_IMAGE_SIZE,
        help="side in pixels of the square images the model reads, 32 to 1024 (default: 224)",
    )
    parser.add_argument(
        "--weights",
        type=backbone_weights,
        default="imagenet",
        help="backbone weights: 'imagenet' (random weights, with a warning, when they cannot be "
        "downloaded), 'none' (random weights) or the path of a MobileNetV2 backbone weights "
        "file (.weights.h5) saved for the same image size (default: imagenet)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit status."""

    def make_task(args: argparse.Namespace) -> "ImageTask":
        # Imported once the arguments are parsed: --help answers without loading TensorFlow.
        from product_classifier.training.image_task import ImageTask  # noqa: PLC0415

        return ImageTask(
            image_size=args.image_size, augmentation=args.data_augmentation, weights=args.weights
        )

    return run_training_cli(build_parser(), argv, make_task)


if __name__ == "__main__":
    sys.exit(main())
