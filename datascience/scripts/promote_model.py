"""Move a registered model's alias to a version, or list versions with aliases and test scores.

Usage (from ``datascience/``)::

    python -m scripts.promote_model --name fusion --version 3 --alias production
    python -m scripts.promote_model --list [--name fusion]

The MLflow UI's alias editor does the same as the first form. The API serves
``models:/$MODEL_NAME@$MODEL_ALIAS`` (``fusion@production`` by default).
"""

import argparse
import sys
from datetime import UTC, datetime


def build_parser() -> argparse.ArgumentParser:
    """Return the CLI's argument parser."""
    parser = argparse.ArgumentParser(
        prog="python -m scripts.promote_model",
        description="Point an alias (staging, production...) of a registered model at a version, "
        "or list the registered versions with their aliases and test metrics.",
        epilog="Tracking: MLFLOW_TRACKING_URI (default: the SQLite store under STATE_DIR).",
    )
    parser.add_argument("--name", help="registered model: text, image or fusion")
    parser.add_argument("--version", type=int, help="version receiving the alias")
    parser.add_argument("--alias", help="alias to move, e.g. staging or production")
    parser.add_argument(
        "--list", action="store_true", help="list versions (of --name, or of every model) and exit"
    )
    return parser


def _format_table(rows: list[list[str]]) -> str:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.list and (args.name is None or args.version is None or args.alias is None):
        parser.error("give --name, --version and --alias to promote, or --list")

    from product_classifier.tracking.registry import (  # noqa: PLC0415 - keeps --help fast
        RegistryError,
        get_version_by_alias,
        list_versions,
        set_alias,
    )
    from product_classifier.tracking.setup import configure_tracking  # noqa: PLC0415

    configure_tracking()
    try:
        if args.list:
            versions = list_versions(args.name)
            if not versions:
                print("No registered model yet.")
                return 0
            rows = [
                [
                    "NAME",
                    "VERSION",
                    "ALIASES",
                    "TEST ACCURACY",
                    "TEST F1 (WEIGHTED)",
                    "CREATED (UTC)",
                ]
            ]
            for item in versions:
                created = datetime.fromtimestamp(item.created_ms / 1000, tz=UTC)
                rows.append(
                    [
                        item.name,
                        str(item.version),
                        ",".join(item.aliases) or "-",
                        f"{item.metrics['test_accuracy']:.4f}"
                        if "test_accuracy" in item.metrics
                        else "-",
                        f"{item.metrics['test_f1_weighted']:.4f}"
                        if "test_f1_weighted" in item.metrics
                        else "-",
                        created.strftime("%Y-%m-%d %H:%M"),
                    ]
                )
            print(_format_table(rows))
            return 0
        try:
            previous = int(get_version_by_alias(args.name, args.alias).version)
        except RegistryError:
            previous = None
        set_alias(args.name, args.alias, args.version)
    except RegistryError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    moved = f" (was version {previous})" if previous is not None else ""
    print(f"{args.name}@{args.alias} now points to version {args.version}{moved}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
