"""Command-line plumbing of the datascience scripts: argument types, logging, training CLIs.

Every script uses the argument types and :func:`configure_logging`. The three training CLIs
(``scripts/train_*``) add their own arguments to :func:`training_parser` and turn the parsed
arguments into a task; :func:`run_training_cli` runs it and reports errors a person can fix as
one line on stderr with a non-zero exit status, without a traceback.
"""

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Final

# Re-exported: every script takes its argument types from here.
from product_classifier.argument_types import bounded_int as bounded_int  # noqa: PLC0414
from product_classifier.argument_types import finite_float as finite_float  # noqa: PLC0414
from product_classifier.argument_types import non_negative_int as non_negative_int  # noqa: PLC0414
from product_classifier.argument_types import positive_int as positive_int  # noqa: PLC0414
from product_classifier.argument_types import worker_count as worker_count  # noqa: PLC0414
from product_classifier.models.image import IMAGENET, MIN_IMAGE_SIZE
from product_classifier.paths import resolve_from_root
from product_classifier.settings import check_model_name, get_platform_settings
from product_classifier.training.defaults import REFIT_BY_DEFAULT
from product_classifier.training.determinism import DEFAULT_SEED

if TYPE_CHECKING:
    from product_classifier.training.task import TrainingTask

EXIT_INPUT_ERROR = 1
EXIT_USAGE = 2
"""Exit status of a command refused before any work (as argparse's own refusals)."""

MAX_SEED = 2**32 - 1
"""Largest seed NumPy, scikit-learn and Keras accept."""


def seed(text: str) -> int:
    """Argparse type: a random seed, 0 to 2^32 - 1 (what NumPy's generators accept)."""
    return bounded_int(text, 0, MAX_SEED)


EXIT_INTERRUPTED = 130
"""Exit status after Ctrl-C (128 + SIGINT), as a shell reports it."""


ATOMIC_OUTPUT_LEFT: Final = "the output folder was left as it was (nothing half-written)"
"""What Ctrl-C leaves of a command that writes its output folder atomically."""


def interrupted(left: str = ATOMIC_OUTPUT_LEFT) -> int:
    """Say in one line that Ctrl-C stopped the command, and what it left.

    Args:
        left: What the interrupted command left behind and how to go on.

    Returns:
        :data:`EXIT_INTERRUPTED`, the command's exit status.
    """
    print(f"Interrupted: {left}.", file=sys.stderr)
    return EXIT_INTERRUPTED


def first_line(message: object) -> str:
    """The first line of an error message (MLflow's carry a server's whole answer)."""
    return next(iter(str(message).strip().splitlines()), "")


def default_output_dir(kind: str) -> Path:
    """Return the default ``--output-dir`` of a kind: ``$STATE_DIR/training/<kind>``."""
    return get_platform_settings().STATE_DIR / "training" / kind


def registered_model_name(text: str) -> str:
    """Argparse type: a registered model name MLflow accepts, checked before any training."""
    try:
        return check_model_name(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def training_parser(kind: str, description: str) -> argparse.ArgumentParser:
    """Return a parser holding the arguments every training CLI shares.

    Args:
        kind: ``text``, ``image`` or ``fusion`` (default registered model and output folder).
        description: What the CLI trains (first line of ``--help``).
    """
    parser = argparse.ArgumentParser(
        prog=f"python -m scripts.train_{kind}_model",
        description=description,
        epilog=(
            "Relative paths are resolved from the repository root, not the current folder. "
            "Tracking: MLFLOW_TRACKING_URI (default: the SQLite store under STATE_DIR). "
            "Re-running the same command after an interruption resumes from the last checkpoint "
            "in --output-dir."
        ),
    )
    parser.add_argument(
        "--input-dir",
        type=resolve_from_root,
        required=True,
        help="dataset folder made by scripts.create_datasets (X_train.csv, y_train.csv, "
        "X_test.csv, y_test.csv" + (", images/)" if kind != "text" else "; images/ not needed)"),
    )
    parser.add_argument(
        "--output-dir",
        type=resolve_from_root,
        default=None,
        help="folder for checkpoints, logs, reports and the model "
        f"(default: $STATE_DIR/training/{kind})",
    )
    parser.add_argument(
        "--batch-size", type=positive_int, default=96, help="rows per batch (default: 96)"
    )
    parser.add_argument(
        "--train-patience",
        type=positive_int,
        default=10,
        help="epochs without validation-accuracy improvement before training stops (default: 10)",
    )
    parser.add_argument(
        "--epochs",
        type=positive_int,
        default=100,
        help="maximum epochs of each training phase (default: 100)",
    )
    parser.add_argument(
        "--seed",
        type=seed,
        default=DEFAULT_SEED,
        help="seed of the validation split, the batch shuffling, the weight initialisation, "
        "dropout and augmentation; the same data and seed give the same model on CPU "
        f"(default: {DEFAULT_SEED})",
    )
    parser.add_argument(
        "--set-staging", action="store_true", help="give the new model version the 'staging' alias"
    )
    refit_by_default = kind == REFIT_BY_DEFAULT
    parser.add_argument(
        "--refit",
        action=argparse.BooleanOptionalAction,
        default=refit_by_default,
        help="once early stopping has chosen the number of epochs, train a new model on the "
        "training and validation rows for that many epochs and register it instead of the best "
        "checkpoint (best_val_accuracy then describes the checkpoint; default: "
        + ("on" if refit_by_default else f"off, it doubles the training time of the {kind} model")
        + ")",
    )
    parser.add_argument(
        "--registered-model",
        type=registered_model_name,
        default=kind,
        help=f"registered model receiving the new version, a name MLflow accepts (no / or :; "
        f"default: {kind})",
    )
    # Names the default --output-dir, which is locked before the task (and TensorFlow) loads.
    parser.set_defaults(training_kind=kind)
    return parser


def run_training_cli(
    parser: argparse.ArgumentParser,
    argv: Sequence[str] | None,
    make_task: Callable[[argparse.Namespace], "TrainingTask"],
) -> int:
    """Parse the arguments, train, print the result; one-line errors for bad inputs.

    The output folder is locked for the whole training, before TensorFlow even loads: another
    training using it (the default folder is shared by every run of a kind) is refused at once.

    Args:
        parser: The CLI's parser (from :func:`training_parser`, plus its own arguments).
        argv: Arguments (``None``: the process's).
        make_task: Builds the model kind's task from the parsed arguments.

    Returns:
        The exit status: 0, :data:`EXIT_INPUT_ERROR` for an input a person must fix, or
        :data:`~product_classifier.output_lock.EXIT_OUTPUT_BUSY` when another training is using
        the output folder.
    """
    args = parser.parse_args(argv)
    start_command()
    from product_classifier.data.output_folder import (  # noqa: PLC0415
        OutputFolderError,
        check_output_folder,
    )
    from product_classifier.output_lock import (  # noqa: PLC0415
        EXIT_OUTPUT_BUSY,
        OutputBusyError,
        OutputLockError,
        exclusive_output,
    )
    from product_classifier.training.checkpoints import RunFiles  # noqa: PLC0415

    output_dir: Path = args.output_dir or default_output_dir(args.training_kind)
    try:
        check_output_folder(output_dir, inputs=[args.input_dir])
    except OutputFolderError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    try:
        with exclusive_output(
            RunFiles(output_dir).lock, folder=output_dir, job="training", option="--output-dir"
        ):
            return _train(args, output_dir, make_task)
    except OutputLockError as error:
        print(f"error: {error}", file=sys.stderr)
        # Another training using the folder: a status of its own, to tell it apart.
        return EXIT_OUTPUT_BUSY if isinstance(error, OutputBusyError) else EXIT_INPUT_ERROR


def _train(
    args: argparse.Namespace,
    output_dir: Path,
    make_task: Callable[[argparse.Namespace], "TrainingTask"],
) -> int:
    """Train into the locked ``output_dir`` and print the result (:func:`run_training_cli`)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # Imported here so that --help answers without loading TensorFlow.
    from mlflow.exceptions import MlflowException  # noqa: PLC0415

    from product_classifier.tracking.registry import RegistryError  # noqa: PLC0415
    from product_classifier.training.errors import TrainingInputError  # noqa: PLC0415
    from product_classifier.training.pipeline import TrainingOptions, run_training  # noqa: PLC0415

    try:
        task = make_task(args)
        options = TrainingOptions(
            input_dir=args.input_dir,
            output_dir=output_dir,
            batch_size=args.batch_size,
            train_patience=args.train_patience,
            epochs=args.epochs,
            set_staging=args.set_staging,
            registered_model=args.registered_model,
            verbose=1 if sys.stdout.isatty() else 2,
            refit=args.refit,
            seed=args.seed,
        )
        params = {**vars(args), "output_dir": options.output_dir}
        del params["training_kind"]  # the run's model_kind tag already says it
        result = run_training(task, options, params)
    except (TrainingInputError, RegistryError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    except KeyboardInterrupt:
        return interrupted("run the same command again to resume from the last checkpoint")
    except MlflowException as error:  # the tracking server stopped answering mid-run, say
        print(
            f"error: MLflow failed while the run was logged: {first_line(error)} "
            f"The checkpoints are kept in {output_dir}: once MLflow answers, run the same "
            "command again to resume (the MLflow UI may show the run RUNNING until then).",
            file=sys.stderr,
        )
        return EXIT_INPUT_ERROR
    metrics = result.metrics
    print(
        f"{result.kind} model registered as {result.model_uri} (run {result.run_id}): "
        f"test accuracy {metrics['test_accuracy']:.4f}, "
        f"weighted F1 {metrics['test_f1_weighted']:.4f}"
        + (" [alias staging]" if options.set_staging else "")
    )
    for key in sorted(metrics):
        if key.startswith("test_") and key not in {"test_accuracy", "test_f1_weighted"}:
            print(f"  {key}: {metrics[key]:.4f}")
    print(f"Reports, checkpoints and logs: {result.output_dir}")
    return 0


MAX_SAMPLE_PRODUCTS: Final = 1_000_000
"""Most products of a synthetic sample (each is a 500x500 JPEG; a trillion would not fit)."""
MIN_DEMO_PRODUCTS: Final = 54
"""Fewest products of the demo's sample: two per category, so that every one has a test row."""


def demo_products(text: str) -> int:
    """Argparse type: the demo's products, :data:`MIN_DEMO_PRODUCTS` to the sample's most."""
    return bounded_int(text, MIN_DEMO_PRODUCTS, MAX_SAMPLE_PRODUCTS)


MAX_DEMO_IMAGE_SIDE: Final = 1024
"""Largest image side the demo bootstrap takes (a 100,000-pixel side would need ~30 GB/image)."""


def image_side(text: str) -> int:
    """Argparse type: an image side the image model can read (MobileNetV2: at least 32)."""
    return bounded_int(text, MIN_IMAGE_SIZE, MAX_DEMO_IMAGE_SIDE)


def backbone_weights(text: str) -> str:
    """Argparse type: ``imagenet``, ``none`` or an existing weights file (from the root).

    Checked when the command starts, not when the image model is reached after minutes of
    other work.
    """
    choice = text.strip()
    if choice.lower() in {IMAGENET, "none"}:
        return choice.lower()
    path = resolve_from_root(choice)
    if not path.is_file():
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither 'imagenet', 'none' nor a weights file"
        )
    return str(path)


def share(text: str) -> float:
    """Parse a share of rows, strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number between 0 and 1, got {text!r}"
        ) from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(
            f"expected a number between 0 and 1 (exclusive), got {value}"
        )
    return value


def root_path(text: str) -> Path:
    """Parse a path; relative paths are resolved from the repository root."""
    return resolve_from_root(text)


def configure_logging() -> None:
    """Log INFO and above to stderr with timestamps."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


_command_pid: int | None = None
"""The process that called :func:`start_command` (its forked workers keep SIGTERM's default)."""


def _interrupt(signum: int, frame: FrameType | None) -> None:
    del frame
    if os.getpid() != _command_pid:
        # A forked worker that got SIGTERM before _default_sigterm_in_child ran: end quietly,
        # as SIGTERM's default action does.
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return
    raise KeyboardInterrupt


def _default_sigterm_in_child() -> None:
    """Give a forked worker SIGTERM's default action back, at the kernel's level.

    multiprocessing.Pool ends its workers with SIGTERM. A Python handler runs only between
    bytecodes: a worker that receives it just before it blocks on its task queue's lock would
    keep waiting, and the pool's ``terminate()`` would wait for it for ever.
    """
    if _command_pid is not None and os.getpid() != _command_pid:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def start_command() -> None:
    """Set up a command once its arguments are parsed: logging, and SIGTERM read as Ctrl-C.

    ``kill``, ``timeout``, a stopped CI job or container send SIGTERM, which would end the
    process at once, without a word, leaving its MLflow run ``RUNNING`` for ever; read as
    Ctrl-C, it stops the command the way Ctrl-C does (its one ``Interrupted:`` line, the
    run marked failed, checkpoints kept). Only from the main thread, where signals arrive, and
    only in this process: its forked workers, which a pool ends with SIGTERM, end quietly.
    """
    global _command_pid  # noqa: PLW0603 - signal handlers are process-wide too
    configure_logging()
    if threading.current_thread() is threading.main_thread():
        if _command_pid is None:
            os.register_at_fork(after_in_child=_default_sigterm_in_child)
        _command_pid = os.getpid()
        signal.signal(signal.SIGTERM, _interrupt)


def add_output_folder_arguments(parser: argparse.ArgumentParser, what: str) -> None:
    """Add ``--output-dir`` (required) and ``--overwrite``, for a folder written atomically.

    Args:
        parser: The command's parser.
        what: What the folder is, for the help (e.g. ``"dataset folder"``).
    """
    parser.add_argument(
        "--output-dir",
        metavar="DIR",
        type=root_path,
        required=True,
        help=f"{what} to create (must not exist unless --overwrite)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the output folder if it exists (only once the new one is complete)",
    )
