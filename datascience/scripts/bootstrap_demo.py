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
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from scripts.cli_support import configure_logging, positive_int

if TYPE_CHECKING:
    from product_classifier.bootstrap import DemoLayout, DemoRecipe

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
    from product_classifier.bootstrap import DemoSettings  # noqa: PLC0415

    demo = DemoSettings()
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
        type=positive_int,
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
        type=positive_int,
        default=demo.DEMO_IMAGE_SIZE,
        help="side in pixels of the images (DEMO_IMAGE_SIZE, default: %(default)s)",
    )
    parser.add_argument(
        "--image-weights",
        default=demo.DEMO_IMAGE_WEIGHTS,
        help="image backbone weights: none, imagenet or a file (DEMO_IMAGE_WEIGHTS, "
        "default: %(default)s)",
    )
    parser.add_argument(
        "--seed", type=int, default=demo.DEMO_SEED, help="random seed (DEMO_SEED, default: 42)"
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


def _run(command: Callable[[list[str]], int], argv: list[str]) -> None:
    """Run a CLI's ``main`` in this process; raise :class:`BootstrapError` on failure."""
    status = command(argv)
    if status != 0:
        raise BootstrapError(f"exit status {status}")


def _clear_keras() -> None:
    """Free the previous training's graphs and memory before the next one."""
    import keras  # noqa: PLC0415

    keras.backend.clear_session()


def _training_main(kind: str) -> Callable[[list[str]], int]:
    """Return the ``main`` of a kind's training CLI (importing it loads TensorFlow)."""
    if kind == "text":
        from scripts import train_text_model  # noqa: PLC0415

        return train_text_model.main
    if kind == "image":
        from scripts import train_image_model  # noqa: PLC0415

        return train_image_model.main
    from scripts import train_fusion_model  # noqa: PLC0415

    return train_fusion_model.main


def build_data(layout: "DemoLayout", recipe: "DemoRecipe", progress: Progress) -> bool:
    """Steps 1 and 2: the synthetic sample and the dataset (kept when already there).

    Both folders are written atomically, so one that exists is complete.

    Returns:
        Whether either was (re)built, so that every training must run again.
    """
    from scripts import create_datasets, make_sample_dataset  # noqa: PLC0415

    rebuilt = False
    progress.step(f"Generating the synthetic sample ({recipe.products} products)")
    if layout.sample_dir.is_dir():
        progress.reused(str(layout.sample_dir))
    else:
        started = time.monotonic()
        sample_args = ["--n-products", str(recipe.products), "--seed", str(recipe.seed)]
        _run(make_sample_dataset.main, ["--output-dir", str(layout.sample_dir), *sample_args])
        rebuilt = True
        progress.done(time.monotonic() - started)

    size = recipe.image_size
    progress.step(f"Creating the dataset ({size}x{size} images)")
    if layout.dataset_dir.is_dir() and not rebuilt:
        progress.reused(str(layout.dataset_dir))
    else:
        started = time.monotonic()
        folders = ["--input-dir", str(layout.sample_dir), "--output-dir", str(layout.dataset_dir)]
        options = ["--image-size", str(size), "--random-state", str(recipe.seed), "--overwrite"]
        _run(create_datasets.main, [*folders, *options])
        rebuilt = True
        progress.done(time.monotonic() - started)
    return rebuilt


def train_models(
    layout: "DemoLayout", recipe: "DemoRecipe", progress: Progress, rebuilt: bool
) -> dict[str, int]:
    """Steps 3 to 5: train text, image and fusion (reusing finished trainings).

    A finished training is reused when the registry still holds the version it registered
    and nothing before it was rebuilt; an interrupted one resumes from its last checkpoint.

    Returns:
        The registered version of each model kind.
    """
    from product_classifier.bootstrap import finished_version  # noqa: PLC0415

    common = ["--input-dir", str(layout.dataset_dir)]
    image_args = ["--image-size", str(recipe.image_size), "--weights", recipe.image_weights]
    versions: dict[str, int] = {}
    for kind in ("text", "image", "fusion"):
        progress.step(f"Training the {kind} model")
        output_dir = layout.training_dir(kind)
        found = None if rebuilt else finished_version(output_dir, kind)
        if found is not None:
            versions[kind] = found
            progress.reused(f"{kind} version {found} (trained in {output_dir})")
            continue
        if rebuilt:
            # Checkpoints of a training on older inputs must not be resumed.
            shutil.rmtree(output_dir, ignore_errors=True)
        extra = {
            "text": [],
            "image": image_args,
            "fusion": [
                *("--text-model-uri", f"models:/text/{versions.get('text')}"),
                *("--image-model-uri", f"models:/image/{versions.get('image')}"),
            ],
        }[kind]
        epochs, patience = recipe.training_epochs(kind)
        extra = [*extra, "--epochs", str(epochs), "--train-patience", str(patience)]
        started = time.monotonic()
        _run(_training_main(kind), [*common, "--output-dir", str(output_dir), *extra])
        _clear_keras()
        registered = finished_version(output_dir, kind)
        if registered is None:
            raise BootstrapError(f"the {kind} training registered no version")
        versions[kind] = registered
        rebuilt = True
        progress.done(time.monotonic() - started)
    return versions


def bootstrap(args: argparse.Namespace, progress: Progress) -> int:
    """Check the served alias; when missing, build, train and promote a demo model.

    Returns:
        The exit status: 0, or :data:`EXIT_NOT_SERVED` for ``--check-only`` without a model.

    Raises:
        BootstrapError: A step failed.
    """
    from product_classifier.bootstrap import (  # noqa: PLC0415 - imports MLflow
        DEMO_MODEL,
        DemoLayout,
        DemoRecipe,
        promote,
        served_version,
    )
    from product_classifier.settings import get_platform_settings  # noqa: PLC0415
    from product_classifier.tracking.setup import configure_tracking  # noqa: PLC0415

    settings = get_platform_settings()
    tracking_uri = configure_tracking(settings)
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
        versions = train_models(layout, recipe, progress, build_data(layout, recipe, progress))
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
    configure_logging()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("MPLBACKEND", "Agg")
    # The steps' own progress is enough: no progress bar per logged or loaded artifact.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    progress = Progress()
    try:
        return bootstrap(args, progress)
    except BootstrapError as error:
        print(
            f"error: step {progress.number}/{progress.total} ({progress.title}) failed: {error}. "
            "Run it again to resume: finished steps are kept.",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
