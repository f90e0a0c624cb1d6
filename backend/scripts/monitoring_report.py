"""Write the model monitoring report (quality, errors, drift) as one HTML page.

Reads the application database and the MLflow registry of the settings (environment, then
``.env``), like the API. The figures are those of ``GET /api/v1/monitoring/report``.

Usage (from backend/)::

    python -m scripts.monitoring_report --output report.html [--model-name NAME]
        [--model-version V] [--days N] [--min-predictions M] [--errors K]

Without ``--model-version``: the version ``MODEL_NAME@MODEL_ALIAS`` points at in the registry,
else the one that made the latest stored prediction. A ``--model-version`` that is neither
registered in MLflow nor found in the stored predictions is refused (exit status 1).
"""

import argparse
import logging
import math
import os
import sys
import tempfile
from pathlib import Path

from app.core.config import Settings, get_settings
from app.db.session import create_session_factory
from app.monitoring.drift import MIN_PREDICTIONS
from app.monitoring.html_report import render_html
from app.monitoring.quality import last_days
from app.monitoring.reference import find_reference
from app.monitoring.service import (
    monitoring_report,
    resolve_version,
    unknown_version_message,
    version_is_unknown,
)
from product_classifier.tracking.setup import TrackingServerUnreachableError, configure_tracking
from scripts.prestart import UnreadableDatabaseError, migrated_database

logger = logging.getLogger("app.monitoring_report")

MOST_DAYS = 3660
"""The longest window, as the API's ``/monitoring`` routes allow (``days`` in (0, 3660])."""


def _days(value: str) -> float:
    try:
        days = float(value)
    except ValueError:
        days = math.nan
    if math.isfinite(days) and 0 < days <= MOST_DAYS:
        return days
    raise argparse.ArgumentTypeError(
        f"expected a number of days above 0 and at most {MOST_DAYS}, got {value!r}"
    )


def _output_file(value: str) -> Path:
    """The HTML file to write, checked writable now: before the database and MLflow are read.

    Its folder may not exist yet (it is created): the nearest existing one must be writable.
    """
    path = Path(value)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{value} is a folder: expected a file to write")
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"cannot write {value}: {folder} is not a folder")
    if path.exists() and not os.access(path, os.W_OK):
        raise argparse.ArgumentTypeError(f"cannot write {value}: permission denied")
    try:  # os.access cannot tell (root, read-only or virtual file systems such as /proc)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise argparse.ArgumentTypeError(
            f"cannot write {value}: cannot create a file in {folder} ({error.strerror})"
        ) from None
    return path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--output", type=_output_file, required=True, help="HTML file to write")
    parser.add_argument("--model-name", help="registered model (default: MODEL_NAME)")
    parser.add_argument("--model-version", help="version (default: MODEL_NAME@MODEL_ALIAS)")
    parser.add_argument(
        "--days",
        type=_days,
        default=7.0,
        help=f"window: the last N days, at most {MOST_DAYS} (7)",
    )
    parser.add_argument(
        "--min-predictions",
        type=int,
        default=MIN_PREDICTIONS,
        help=f"fewest predictions in the window to flag drift ({MIN_PREDICTIONS})",
    )
    parser.add_argument("--errors", type=int, default=10, help="error pairs listed (10)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Build the report and write it; return the process exit code."""
    args = _parser().parse_args(argv)
    if args.min_predictions < 1 or args.errors < 1:
        print("error: --min-predictions and --errors must be positive.", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s [%(name)s] %(message)s")
    settings = get_settings()
    try:
        return _report(args, settings)
    except UnreadableDatabaseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except TrackingServerUnreachableError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def _report(args: argparse.Namespace, settings: Settings) -> int:
    model_name = args.model_name or settings.MODEL_NAME
    with migrated_database(settings.database_url) as engine:
        tracking_uri = configure_tracking(settings, existing=True)  # unusable store: one line
        with create_session_factory(engine)() as session:
            version = args.model_version or resolve_version(
                session, tracking_uri, model_name, settings.MODEL_ALIAS
            )
            if version is None:
                print(
                    f"error: no version of {model_name!r} is registered as "
                    f"{model_name}@{settings.MODEL_ALIAS} or found in the predictions: "
                    "pass --model-version.",
                    file=sys.stderr,
                )
                return 1
            if args.model_version and version_is_unknown(
                session, tracking_uri, model_name, version
            ):
                print(f"error: {unknown_version_message(model_name, version)}", file=sys.stderr)
                return 1
            report = monitoring_report(
                session,
                find_reference(tracking_uri, model_name, version),
                model_name,
                version,
                last_days(args.days),
                min_predictions=args.min_predictions,
                errors_limit=args.errors,
            )
    try:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(render_html(report), encoding="utf-8")
    except OSError as error:  # changed since the check at the start
        print(f"error: cannot write {args.output}: {error.strerror}", file=sys.stderr)
        return 2
    drift = report.drift
    print(f"Wrote {args.output} ({model_name} version {version}, last {args.days:g} days).")
    print(f"Drift: {drift.status} - {drift.message}")
    for quality in report.quality.versions:
        print(
            f"Version {quality.model_version}: {quality.feedback_count} feedback, "
            f"accuracy {quality.accuracy:.3f}, weighted F1 {quality.weighted_f1:.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
