"""Write the model monitoring report (quality, errors, drift) as one HTML page.

Reads the application database and the MLflow registry of the settings (environment, then
``.env``), like the API. The figures are those of ``GET /api/v1/monitoring/report``.

Usage (from backend/)::

    python -m scripts.monitoring_report --output report.html [--model-name NAME]
        [--model-version V] [--days N] [--min-predictions M] [--errors K]

Without ``--model-version``: the version ``MODEL_NAME@MODEL_ALIAS`` points at in the registry,
else the one that made the latest stored prediction.
"""

import argparse
import logging
import sys
from pathlib import Path

from app.core.config import get_settings
from app.db.session import create_db_engine, create_session_factory
from app.monitoring.drift import MIN_PREDICTIONS
from app.monitoring.html_report import render_html
from app.monitoring.quality import last_days
from app.monitoring.reference import find_reference
from app.monitoring.service import monitoring_report, resolve_version

logger = logging.getLogger("app.monitoring_report")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--output", type=Path, required=True, help="HTML file to write")
    parser.add_argument("--model-name", help="registered model (default: MODEL_NAME)")
    parser.add_argument("--model-version", help="version (default: MODEL_NAME@MODEL_ALIAS)")
    parser.add_argument("--days", type=float, default=7.0, help="window: the last N days (7)")
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
    if args.days <= 0 or args.min_predictions < 1 or args.errors < 1:
        print("error: --days, --min-predictions and --errors must be positive.", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s [%(name)s] %(message)s")
    settings = get_settings()
    tracking_uri = settings.configure_mlflow()
    model_name = args.model_name or settings.MODEL_NAME
    engine = create_db_engine(settings.database_url)
    try:
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
            report = monitoring_report(
                session,
                find_reference(tracking_uri, model_name, version),
                model_name,
                version,
                last_days(args.days),
                min_predictions=args.min_predictions,
                errors_limit=args.errors,
            )
    finally:
        engine.dispose()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render_html(report), encoding="utf-8")
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
