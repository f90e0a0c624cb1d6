"""Train the fusion model over a text and an image model, track it and register a new version.

Usage (from ``datascience/``)::

    python -m scripts.train_fusion_model --input-dir var/datasets/sample \
        --text-model-uri models:/text@staging --image-model-uri models:/image/3
"""

import argparse
import sys
from typing import TYPE_CHECKING

from scripts.cli_support import run_training_cli, training_parser

if TYPE_CHECKING:
    from product_classifier.training.fusion_task import FusionTask


def build_parser() -> argparse.ArgumentParser:
    """Return the CLI's argument parser."""
    parser = training_parser(
        "fusion",
        "Train the fusion model (frozen text and image models' features → Dense 512 → Dense 128 "
        "→ softmax; answers from the text, the image or both), log it to MLflow and register it "
        "as a new version of 'fusion'.",
    )
    parser.add_argument(
        "--text-model-uri",
        default="models:/text/latest",
        help="pin the text model to build on: models:/NAME/VERSION, models:/NAME@ALIAS, "
        "runs:/... (default: the latest registered version of 'text', whatever it was "
        "trained on)",
    )
    parser.add_argument(
        "--image-model-uri",
        default="models:/image/latest",
        help="pin the image model to build on; its image size is the fusion model's "
        "(default: the latest registered version of 'image', whatever it was trained on)",
    )
    parser.epilog = (parser.epilog or "") + (
        " The run says which text and image versions it builds on and the datasets they were "
        "trained on, and warns when their training rows include this dataset's test rows "
        "(which inflates the fusion test scores): pin versions trained on --input-dir."
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit status."""

    def make_task(args: argparse.Namespace) -> "FusionTask":
        # Imported once the arguments are parsed: --help answers without loading TensorFlow.
        from product_classifier.training.fusion_task import FusionTask  # noqa: PLC0415

        return FusionTask(text_model_uri=args.text_model_uri, image_model_uri=args.image_model_uri)

    return run_training_cli(build_parser(), argv, make_task)


if __name__ == "__main__":
    sys.exit(main())
