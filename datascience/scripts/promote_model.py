"""Move a registered model's alias to a version, or list versions with aliases and test scores.

Usage (from ``datascience/``)::

    python -m scripts.promote_model --name fusion --version 3 --alias production
    python -m scripts.promote_model --name fusion --version 3 --alias production --gate \
        [--min-gain 0.0] [--min-rows 1]
    python -m scripts.promote_model --list [--name fusion]

With ``--gate`` the alias moves only when ``evaluate_challenger`` recorded, on that version, an
evaluation against the version the alias points to now, on at least ``--min-rows`` rows, with a
weighted-F1 gain of at least ``--min-gain``; otherwise the command exits with code 3 (refused)
or 2 (no such evaluation) and says why.

The MLflow UI's alias editor does the same as the first form. The API serves
``models:/$MODEL_NAME@$MODEL_ALIAS`` (``fusion@production`` by default).
"""

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from product_classifier.argument_types import model_version
from product_classifier.settings import get_platform_settings
from product_classifier.text_table import aligned_lines
from scripts.cli_support import finite_float, first_line, positive_int


def build_parser() -> argparse.ArgumentParser:
    """Return the CLI's argument parser."""
    parser = argparse.ArgumentParser(
        prog="python -m scripts.promote_model",
        description="Point an alias (staging, production...) of a registered model at a version, "
        "or list the registered versions with their aliases and test metrics.",
        epilog="Tracking: MLFLOW_TRACKING_URI (default: the SQLite store under STATE_DIR). "
        "Exit codes: 1 unknown model, version or alias; 2 --gate without a recorded evaluation "
        "against the alias's holder; 3 refused by the gate.",
    )
    parser.add_argument("--name", help="registered model: text, image or fusion")
    parser.add_argument("--version", type=model_version, help="version receiving the alias")
    parser.add_argument("--alias", help="alias to move, e.g. staging or production")
    parser.add_argument(
        "--list", action="store_true", help="list versions (of --name, or of every model) and exit"
    )
    parser.add_argument(
        "--gate",
        action="store_true",
        help="promote only if evaluate_challenger showed the version at least as good as the "
        "alias's current holder",
    )
    parser.add_argument(
        "--min-gain",
        type=finite_float,
        default=0.0,
        metavar="F1",
        help="with --gate: least weighted-F1 gain over the holder (default: 0.0)",
    )
    parser.add_argument(
        "--min-rows",
        type=positive_int,
        default=1,
        metavar="N",
        help="with --gate: least number of rows the evaluation scored (default: 1)",
    )
    return parser


def _check_gate(args: argparse.Namespace, holder: int | None) -> int:
    """Print the gate's decision; return 0 when the alias may move, else the exit code."""
    from product_classifier.evaluation.gate import (  # noqa: PLC0415
        MissingEvaluationError,
        gate_decision,
    )
    from product_classifier.tracking.registry import get_version  # noqa: PLC0415

    tags = dict(get_version(args.name, args.version).tags or {})
    if holder == args.version:
        print(f"Gate passed: version {holder} already holds the alias.")
        return 0
    try:
        decision = gate_decision(
            tags,
            None if holder is None else str(holder),
            min_gain=args.min_gain,
            min_rows=args.min_rows,
        )
    except MissingEvaluationError as error:
        print(f"error: cannot gate version {args.version}: {error}.", file=sys.stderr)
        return 2
    if not decision.allowed:
        print(
            f"Refused: {args.name}@{args.alias} stays on version {holder}: {decision.reason}.",
            file=sys.stderr,
        )
        return 3
    print(f"Gate passed: {decision.reason}.")
    return 0


def _print_versions(name: str | None) -> int:
    """Print the registered versions (of ``name``, or of every model); return 0."""
    from product_classifier.tracking.registry import list_versions  # noqa: PLC0415

    versions = list_versions(name)
    if not versions:
        print("No registered model yet.")
        return 0
    rows = [["NAME", "VERSION", "ALIASES", "TEST ACCURACY", "TEST F1 (WEIGHTED)", "CREATED (UTC)"]]
    for item in versions:
        created = datetime.fromtimestamp(item.created_ms / 1000, tz=UTC)
        rows.append(
            [
                item.name,
                str(item.version),
                ",".join(item.aliases) or "-",
                *(
                    f"{item.metrics[key]:.4f}" if key in item.metrics else "-"
                    for key in ("test_accuracy", "test_f1_weighted")
                ),
                created.strftime("%Y-%m-%d %H:%M"),
            ]
        )
    print("\n".join(aligned_lines(rows)))
    return 0


def _move_alias(args: argparse.Namespace) -> int:
    """Move the alias (through the gate with ``--gate``); return the exit status."""
    from product_classifier.tracking.registry import (  # noqa: PLC0415
        RegistryError,
        get_version_by_alias,
        set_alias,
    )

    # Promotions from this STATE_DIR take turns: the holder read, the gate and the move are
    # one step, so a gated promotion never replaces a version it was not evaluated against.
    with promotion_lock():
        try:
            previous = int(get_version_by_alias(args.name, args.alias).version)
        except RegistryError:
            previous = None
        if args.gate:
            status = _check_gate(args, previous)
            if status:
                return status
        set_alias(args.name, args.alias, args.version)
    if previous == args.version:
        print(f"{args.name}@{args.alias} already points to version {args.version}.")
        return 0
    moved = f" (was version {previous})" if previous is not None else ""
    print(f"{args.name}@{args.alias} now points to version {args.version}{moved}.")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.list and (args.name is None or args.version is None or args.alias is None):
        parser.error("give --name, --version and --alias to promote, or --list")

    from mlflow.exceptions import MlflowException  # noqa: PLC0415 - keeps --help fast

    from product_classifier.tracking.registry import RegistryError  # noqa: PLC0415
    from product_classifier.tracking.setup import configure_tracking  # noqa: PLC0415

    try:
        configure_tracking(existing=True)
        return _print_versions(args.name) if args.list else _move_alias(args)
    except (RegistryError, PromotionBusyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except MlflowException as error:  # the store failed (a server erroring, a database down)
        print(f"error: {first_line(error.message)}", file=sys.stderr)
        return 1


PROMOTION_WAIT_SECONDS = 60.0
"""Longest wait for another promotion from the same ``STATE_DIR`` to end."""


class PromotionBusyError(Exception):
    """Another promotion held the lock for longer than :data:`PROMOTION_WAIT_SECONDS`."""


@contextmanager
def promotion_lock() -> Iterator[None]:
    """Hold the promotions' lock (``$STATE_DIR/mlflow/.promotion.lock``) for the body.

    An operating-system lock (filelock): it serialises promotions run on this machine with this
    ``STATE_DIR``, not the MLflow UI's alias editor nor another machine's promotions.

    Raises:
        PromotionBusyError: Another promotion kept it for :data:`PROMOTION_WAIT_SECONDS`.
    """
    from filelock import FileLock, Timeout  # noqa: PLC0415

    lock_file = get_platform_settings().mlflow_dir / ".promotion.lock"
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    try:
        with FileLock(lock_file, timeout=PROMOTION_WAIT_SECONDS):
            yield
    except Timeout:
        raise PromotionBusyError(
            f"another promotion held {lock_file} for {PROMOTION_WAIT_SECONDS:.0f} s: "
            "run the command again once it ends"
        ) from None


if __name__ == "__main__":
    sys.exit(main())
