"""Train the text model on a dataset folder, track it in MLflow and register a new version.

Usage (from ``datascience/``)::

    python -m scripts.train_text_model --input-dir var/datasets/sample --set-staging
"""

import argparse
import sys
from typing import TYPE_CHECKING

from scripts.cli_support import run_training_cli, training_parser

if TYPE_CHECKING:
    from product_classifier.training.text_task import TextTask


def build_parser() -> argparse.ArgumentParser:
    """Return the CLI's argument parser."""
    return training_parser(
        "text",
        "Train the text model (cleaned French title and description → TF-IDF → dense network), "
        "log it to MLflow and register it as a new version of the 'text' model.",
    )


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit status."""

    def make_task(args: argparse.Namespace) -> "TextTask":
        # Imported once the arguments are parsed: --help answers without loading TensorFlow.
        from product_classifier.training.text_task import TextTask  # noqa: PLC0415

        del args
        return TextTask()

    return run_training_cli(build_parser(), argv, make_task)


if __name__ == "__main__":
    sys.exit(main())
