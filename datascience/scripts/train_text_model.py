"""Train the text model on a dataset folder, track it in MLflow and register a new version.

Usage (from ``datascience/``)::

    python -m scripts.train_text_model --input-dir var/datasets/sample --set-staging
"""

import argparse
import sys
from typing import TYPE_CHECKING

from product_classifier.models.text import TEXT_MODEL_DEFAULTS
from scripts.cli_support import run_training_cli, training_parser

if TYPE_CHECKING:
    from product_classifier.training.text_task import TextTask


def build_parser() -> argparse.ArgumentParser:
    """Return the CLI's argument parser."""
    parser = training_parser(
        "text",
        "Train the text model (cleaned French title and description → TF-IDF → dense network), "
        "log it to MLflow and register it as a new version of the 'text' model.",
    )
    default = TEXT_MODEL_DEFAULTS.word_vectors
    parser.add_argument(
        "--word-vectors",
        metavar="SOURCE",
        default=default,
        help="pretrained word vectors averaged over the title and over the description, beside "
        "the TF-IDF features: an installed spaCy model package or a fastText .vec file "
        f"(default: {default or 'none'})",
    )
    parser.add_argument(
        "--no-word-vectors",
        dest="word_vectors",
        action="store_const",
        const=None,
        help="TF-IDF features only" + ("" if default else " (the default)"),
    )
    parser.add_argument(
        "--linear-ensemble",
        action=argparse.BooleanOptionalAction,
        default=TEXT_MODEL_DEFAULTS.linear_ensemble,
        help="once the network is trained, average its probabilities with a softmax of 5 x the "
        "scores of a class-balanced LinearSVC fitted on the same features and rows, in the same "
        f"Keras model (default: {'on' if TEXT_MODEL_DEFAULTS.linear_ensemble else 'off'})",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit status."""

    def make_task(args: argparse.Namespace) -> "TextTask":
        # Imported once the arguments are parsed: --help answers without loading TensorFlow.
        from product_classifier.training.text_task import TextTask  # noqa: PLC0415

        return TextTask(word_vectors=args.word_vectors, linear_ensemble=args.linear_ensemble)

    return run_training_cli(build_parser(), argv, make_task)


if __name__ == "__main__":
    sys.exit(main())
