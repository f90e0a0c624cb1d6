"""Make sure the registry serves a model: train a small demo one when it does not.

When ``models:/$MODEL_NAME@$MODEL_ALIAS`` (``fusion@production`` by default) exists, return at
once. Otherwise, in six steps shown one by one: generate the synthetic sample, create the
dataset, train the text, image and fusion models (small images, few epochs), and give the fusion
version the ``production`` alias. Everything is written under ``$STATE_DIR/demo``; an interrupted
run is resumed by running the command again (finished steps are reused, trainings continue from
their last checkpoint). ``scripts/start.sh`` runs it before serving.

Run from ``datascience/``::

    python -m scripts.bootstrap_demo            # sizes from DEMO_PRODUCTS, DEMO_EPOCHS, ...
    python -m scripts.bootstrap_demo --products 300 --epochs 1
"""

import argparse
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from scripts.cli_support import (
    backbone_weights,
    demo_products,
    image_side,
    positive_int,
    seed,
    start_command,
)

if TYPE_CHECKING:
    from scripts.demo_bookkeeping import DemoLayout, DemoRecipe

TOTAL_STEPS = 6
EXIT_NOT_SERVED = 3
"""Exit status of ``--check-only`` when the served alias does not exist."""


class BootstrapError(Exception):
    """A step failed (its own message is already on stderr)."""


@dataclass
class Progress:
    """Shows the steps as ``[3/6] Training the image model ...`` with their duration."""

    total: int = TOTAL_STEPS
    number: int = 0
    title: str = ""
    started: float = field(default_factory=time.monotonic)

    def step(self, title: str) -> None:
        """Announce the next step."""
        self.number += 1
        self.title = title
        print(f"\n[{self.number}/{self.total}] {title} ...", flush=True)

    def reused(self, what: str) -> None:
        """Say that the step's result from an earlier run is kept."""
        print(f"[{self.number}/{self.total}] Already done: {what}", flush=True)

    def done(self, seconds: float) -> None:
        """Say that the step finished and how long it took."""
        print(f"[{self.number}/{self.total}] Done in {seconds:.0f} s.", flush=True)


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser (defaults from the ``DEMO_*`` settings)."""
    from product_classifier.settings import read_settings_or_exit  # noqa: PLC0415
    from scripts.demo_bookkeeping import DemoSettings  # noqa: PLC0415

    demo = read_settings_or_exit(DemoSettings)
    parser = argparse.ArgumentParser(
        prog="python -m scripts.bootstrap_demo",
        description=(
            "When the registry has no models:/$MODEL_NAME@$MODEL_ALIAS, generate a synthetic "
            "sample, create a dataset, train small text, image and fusion models, register them "
            "and give the fusion version the 'production' alias (and $MODEL_NAME the "
            "$MODEL_ALIAS alias). Writes under $STATE_DIR/demo; run it again to resume."
        ),
        epilog="Tracking: MLFLOW_TRACKING_URI (default: the SQLite store under STATE_DIR).",
    )
    parser.add_argument(
        "--products",
        type=demo_products,
        default=demo.DEMO_PRODUCTS,
        help="products in the synthetic sample (DEMO_PRODUCTS, default: %(default)s)",
    )
    parser.add_argument(
        "--epochs",
        type=positive_int,
        default=demo.DEMO_EPOCHS,
        help="epochs of the image model; the text and fusion models train up to 4 times as "
        "many, with early stopping (DEMO_EPOCHS, default: %(default)s)",
    )
    parser.add_argument(
        "--image-size",
        type=image_side,
        default=demo.DEMO_IMAGE_SIZE,
        help="side in pixels of the images, 32 to 1024 (DEMO_IMAGE_SIZE, default: %(default)s)",
    )
    parser.add_argument(
        "--image-weights",
        type=backbone_weights,
        default=demo.DEMO_IMAGE_WEIGHTS,
        help="image backbone weights: none, imagenet or a file (DEMO_IMAGE_WEIGHTS, "
        "default: %(default)s)",
    )
    parser.add_argument(
        "--seed", type=seed, default=demo.DEMO_SEED, help="random seed (DEMO_SEED, default: 42)"
    )
    parser.add_argument(
        "--check-only",
        action="store_true",
        help=f"only tell whether the served alias exists (exit status 0) or not "
        f"({EXIT_NOT_SERVED}); build nothing",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="build and promote a demo model even when the served alias exists",
    )
    return parser


def build_and_train(
    layout: "DemoLayout", recipe: "DemoRecipe", progress: Progress
) -> dict[str, int]:
    """Steps 1 to 5: the sample, the dataset, then text, image and fusion (reusing what is done).

    A finished training is reused when the registry still holds the version it registered
    and nothing before it was rebuilt; an interrupted one resumes from its last checkpoint.

    Returns:
        The registered version of each model kind.

    Raises:
        BootstrapError: A step failed.
    """
    # Imported here: --help and --check-only answer without loading TensorFlow.
    from product_classifier.data.original import DatasetError  # noqa: PLC0415
    from product_classifier.data.output_folder import OutputFolderError  # noqa: PLC0415
    from product_classifier.tracking.registry import RegistryError  # noqa: PLC0415
    from product_classifier.training.errors import TrainingInputError  # noqa: PLC0415
    from product_classifier.training.plan import (  # noqa: PLC0415
        TrainingPlan,
        build_generated_dataset,
        train_three_models,
    )

    dense_epochs, dense_patience = recipe.training_epochs("text")
    image_epochs, image_patience = recipe.training_epochs("image")
    plan = TrainingPlan(
        epochs=dense_epochs,
        patience=dense_patience,
        image_epochs=image_epochs,
        image_patience=image_patience,
        image_size=recipe.image_size,
        weights=recipe.image_weights,
        verbose=1 if sys.stdout.isatty() else 2,
        purpose="demo",
    )
    try:
        rebuilt = build_generated_dataset(
            layout.sample_dir,
            layout.dataset_dir,
            recipe.products,
            recipe.seed,
            recipe.image_size,
            split_seed=recipe.seed,
            reporter=progress,
        )
        results = train_three_models(
            layout.dataset_dir, layout.training_root, plan, resume=not rebuilt, reporter=progress
        )
    except (DatasetError, OutputFolderError, TrainingInputError, RegistryError) as error:
        raise BootstrapError(str(error)) from error
    return {kind: result.version for kind, result in results.items()}


def bootstrap(args: argparse.Namespace, progress: Progress) -> int:
    """Check the served alias; when missing, build, train and promote a demo model.

    Returns:
        The exit status: 0, or :data:`EXIT_NOT_SERVED` for ``--check-only`` without a model.

    Raises:
        BootstrapError: A step failed.
    """
    from product_classifier.settings import get_platform_settings  # noqa: PLC0415
    from product_classifier.tracking.setup import (  # noqa: PLC0415
        TrackingServerUnreachableError,
        configure_tracking,
    )
    from scripts.demo_bookkeeping import (  # noqa: PLC0415 - imports MLflow
        DEMO_MODEL,
        DemoLayout,
        DemoRecipe,
        promote,
        served_version,
    )

    settings = get_platform_settings()
    try:
        tracking_uri = configure_tracking(settings)
    except TrackingServerUnreachableError as error:
        raise BootstrapError(str(error)) from None
    served = f"models:/{settings.MODEL_NAME}@{settings.MODEL_ALIAS}"
    version = served_version(settings.MODEL_NAME, settings.MODEL_ALIAS)
    if version is None and args.check_only:
        print(f"No model is registered as {served} (tracking: {tracking_uri}).")
        return EXIT_NOT_SERVED
    if version is not None and (args.check_only or not args.force):
        print(f"{served} is version {version}: no demo model needed.")
        return 0

    layout = DemoLayout.for_state_dir(settings.STATE_DIR)
    recipe = DemoRecipe(
        products=args.products,
        epochs=args.epochs,
        image_size=args.image_size,
        image_weights=args.image_weights,
        seed=args.seed,
    )
    with layout.locked():
        version = served_version(settings.MODEL_NAME, settings.MODEL_ALIAS)
        if version is not None and not args.force:
            print(f"{served} is version {version} (set by another bootstrap): nothing to do.")
            return 0
        # start.sh has just said that no model is registered (--check-only): say it once.
        print(
            f"Building a demo model for {served} (tracking: {tracking_uri}) in {layout.root}: "
            f"{recipe.products} synthetic products, "
            f"{recipe.image_size}x{recipe.image_size} images, {recipe.epochs} epochs for the "
            "image model. Interrupting it is safe: the next run resumes it.",
            flush=True,
        )
        fresh = layout.prepare(recipe)
        versions = build_and_train(layout, recipe, progress)
        progress.step("Promoting the fusion model")
        aliases = promote(versions, settings.MODEL_NAME, settings.MODEL_ALIAS)
        print(
            f"[{progress.number}/{progress.total}] {', '.join(aliases)} -> {DEMO_MODEL} version "
            f"{versions[DEMO_MODEL]}.",
            flush=True,
        )
    minutes, seconds = divmod(round(time.monotonic() - progress.started), 60)
    how = "built" if fresh else "finished"
    print(f"\nDemo model {how} in {minutes} min {seconds:02d} s.", flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return the process exit code."""
    args = build_parser().parse_args(argv)
    start_command()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("MPLBACKEND", "Agg")
    # The steps' own progress is enough: no progress bar per logged or loaded artifact.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    progress = Progress()
    try:
        return bootstrap(args, progress)
    except BootstrapError as error:
        if not progress.number:  # before the first step (the tracking store): nothing to resume
            print(f"error: {error}", file=sys.stderr)
            return 1
        print(
            f"error: step {progress.number}/{progress.total} ({progress.title}) failed: "
            f"{str(error).rstrip('.')}. Run it again to resume: finished steps are kept.",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
