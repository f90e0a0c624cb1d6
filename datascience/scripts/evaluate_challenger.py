"""Score a challenger version and the champion on the same labelled rows, and record the result.

Usage (from ``datascience/``)::

    python -m scripts.evaluate_challenger --challenger models:/fusion/3 \
        [--champion models:/fusion@production] (--dataset DIR | --from-feedback [--since DATE])

Prints accuracy and weighted F1 of both, their differences with paired bootstrap 95% intervals
and the per-category F1 changes; logs them as an MLflow run and as ``evaluation.*`` tags of the
challenger's model version, which ``promote_model --gate`` reads.
"""

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from product_classifier.evaluation.comparison import MAX_RESAMPLES, RESAMPLES
from scripts.cli_support import bounded_int, interrupted, root_path, start_command
from scripts.export_feedback_dataset import (
    add_feedback_source_arguments,
    feedback_source,
    moment,
)


def resamples(text: str) -> int:
    """Argparse type: bootstrap draws, from 1 to :data:`MAX_RESAMPLES`."""
    return bounded_int(text, 1, MAX_RESAMPLES)


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(
        prog="python -m scripts.evaluate_challenger",
        description=(
            "Replay labelled rows through a challenger model version and the champion (the "
            "holder of the production alias by default), print both scores side by side with "
            "paired bootstrap 95% intervals of the differences, and log them to MLflow on the "
            "challenger's version (a run and evaluation.* version tags)."
        ),
        epilog=(
            "Rows: the test split of a dataset folder (--dataset), or the products that received "
            "feedback in production, exported with their stored images (--from-feedback, as "
            "scripts.export_feedback_dataset does). Tracking: MLFLOW_TRACKING_URI. Exit code 1 "
            "for an unknown model, version or alias, 2 for invalid input."
        ),
    )
    parser.add_argument(
        "--challenger", required=True, metavar="URI", help="models:/NAME/VERSION to evaluate"
    )
    parser.add_argument(
        "--champion",
        metavar="URI",
        help="version to compare with (default: models:/NAME@production)",
    )
    rows = parser.add_mutually_exclusive_group(required=True)
    rows.add_argument(
        "--dataset", metavar="DIR", type=root_path, help="dataset folder whose test split is used"
    )
    rows.add_argument(
        "--from-feedback",
        action="store_true",
        help="use the production rows with feedback (the seller's category as the label)",
    )
    parser.add_argument(
        "--since",
        metavar="DATE",
        type=moment,
        help="with --from-feedback: only feedback received at or after this date (UTC)",
    )
    parser.add_argument(
        "--resamples",
        metavar="N",
        type=resamples,
        default=RESAMPLES,
        help=f"bootstrap draws for the intervals, 1 to {MAX_RESAMPLES:,} (default: {RESAMPLES})",
    )
    add_feedback_source_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.since is not None and not args.from_feedback:
        parser.error("--since goes with --from-feedback")
    start_command()
    # Heavy imports after parsing: --help stays fast.
    from product_classifier.data.feedback_export import (  # noqa: PLC0415
        ExportOptions,
        export_feedback_dataset,
    )
    from product_classifier.data.original import DatasetError  # noqa: PLC0415
    from product_classifier.evaluation.challenger import evaluate_challenger  # noqa: PLC0415
    from product_classifier.evaluation.replay_rows import (  # noqa: PLC0415
        dataset_test_rows,
        original_folder_rows,
    )
    from product_classifier.tracking.registry import RegistryError  # noqa: PLC0415
    from product_classifier.tracking.setup import configure_tracking  # noqa: PLC0415

    try:
        configure_tracking(existing=True)
        with tempfile.TemporaryDirectory(prefix="feedback-replay-") as folder:
            if args.from_feedback:
                database_url, store_url = feedback_source(args)
                exported = Path(folder) / "feedback"
                export_feedback_dataset(
                    ExportOptions(database_url, store_url, exported, since=args.since)
                )
                since = f" since {args.since.isoformat()}" if args.since else ""
                rows = original_folder_rows(exported, f"production feedback{since}")
            else:
                rows = dataset_test_rows(args.dataset)
            result = evaluate_challenger(
                args.challenger, args.champion, rows, resamples=args.resamples
            )
    except RegistryError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except (DatasetError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return interrupted("no evaluation was recorded; run the command again")
    print(result.text, end="")
    print(
        f"\nLogged to MLflow run {result.run_id} and as evaluation.* tags of "
        f"{result.challenger.load_uri}."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
