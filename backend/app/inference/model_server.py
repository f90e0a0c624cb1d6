"""Load the production model from the MLflow registry and follow its alias without a restart.

:class:`ModelServer` resolves ``MODEL_NAME@MODEL_ALIAS`` at startup and then every
``MODEL_RELOAD_INTERVAL_SECONDS`` in a background thread, on wall-clock multiples of that
interval (so the workers of one API check together). When the alias points at another
version, that version is loaded and checked beside the one being served, then swapped in with
one reference assignment: requests already running finish with the model they started with.
A version that fails to load is logged and skipped; the previous one keeps serving. It is tried
again after ``retry_failed_after`` seconds (its artifacts may have been missing or unreachable
only for a while), and at once when the alias moves to it again from another version.

Besides the served model, the server remembers what the registry said last
(:class:`AliasTarget`: the version the alias points at, and that version's load error) and
whether the registry could be asked at all (:class:`RegistryProblem`), so that
``/models/current`` and ``/health/ready`` can tell both what is served and what should be.
"""

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from PIL import Image

from app.inference.heap import release_free_heap
from app.inference.long_lived_objects import freeze_long_lived_objects
from app.telemetry.metrics import record_model_load
from product_classifier.categories import NUM_CATEGORIES
from product_classifier.serving.contract import Prediction, ProductInput, ProductPredictor

logger = logging.getLogger(__name__)


class ModelLoadError(Exception):
    """A registered model version could not be loaded or did not pass its check."""


@dataclass(frozen=True, slots=True)
class ServedModel:
    """A loaded model version and where it comes from."""

    name: str
    version: str
    alias: str
    run_id: str | None
    loaded_at: datetime
    predictor: ProductPredictor

    @property
    def label(self) -> str:
        """``name@alias (version N)``, for logs and health answers."""
        return f"{self.name}@{self.alias} (version {self.version})"

    def predict(self, products: Sequence[ProductInput]) -> list[Prediction]:
        """Predict every product in one model call and check the answer's shape.

        Raises:
            ModelLoadError: the model answered something other than one list of 27 categories
                per product.
        """
        predictions = self.predictor.predict_products(products)
        check_predictions(predictions, len(products))
        return predictions


@dataclass(frozen=True, slots=True)
class AliasTarget:
    """Where the alias pointed when the registry was last asked, and whether that loaded.

    ``version`` is ``None`` when the alias is not set (or the model is not registered).
    ``load_error`` says why that version is not served (``None`` when it is, or is loading).
    """

    version: str | None
    run_id: str | None
    checked_at: datetime
    load_error: str | None = None


@dataclass(frozen=True, slots=True)
class RegistryProblem:
    """The registry could not be asked where the alias points: since when, and why."""

    error: str
    since: datetime
    last_attempt: datetime


def check_predictions(predictions: Any, expected_rows: int) -> None:
    """Make sure a model answered one list of the 27 categories per product.

    Raises:
        ModelLoadError: the answer does not follow the model output contract.
    """
    if not isinstance(predictions, list) or len(predictions) != expected_rows:
        raise ModelLoadError(f"expected {expected_rows} predictions, got {type(predictions)}")
    for row in predictions:
        if not isinstance(row, list) or len(row) != NUM_CATEGORIES:
            raise ModelLoadError(f"expected {NUM_CATEGORIES} categories per product")
        if not all("category_id" in entry and "probabilities" in entry for entry in row):
            raise ModelLoadError("entries must hold category_id and probabilities")


def _warm_up_products() -> list[ProductInput]:
    # Text and a small colour image: every model (text, image or fusion) can read it.
    return [
        ProductInput(
            designation="Produit de test",
            description="Vérification du modèle avant sa mise en service.",
            image=Image.new("RGB", (64, 64), "white"),
        )
    ]


MAX_ERROR_CHARS = 500
"""Longest error text kept for the health and model answers (longer ones are cut)."""


def one_line(text: str, limit: int = MAX_ERROR_CHARS) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_registry_error(error: BaseException) -> str:
    """One line saying why the registry could not be asked: the error's type and message."""
    return one_line(f"{type(error).__name__}: {error}")


def load_model_version(name: str, version: str, alias: str) -> ServedModel:
    """Load ``models:/name/version``'s predictor and check it on one product.

    Our models are built from the artifacts their runtime reads, without ``mlflow.pyfunc``
    (:func:`product_classifier.serving.logged_model.load_logged_model`).

    The warm-up call also builds the model's inference function, so the first real request
    does not pay for it.

    Raises:
        ModelLoadError: loading failed, the model is not a product predictor, or its answer
            does not follow the output contract.
    """
    from product_classifier.serving.logged_model import load_logged_model  # noqa: PLC0415

    uri = f"models:/{name}/{version}"
    try:
        loaded = load_logged_model(uri)
        predictor = loaded.predictor
    except Exception as error:
        raise ModelLoadError(f"cannot load {uri}: {error}") from error
    if not callable(getattr(predictor, "predict_products", None)):
        raise ModelLoadError(f"{uri} does not implement predict_products()")
    try:
        check_predictions(predictor.predict_products(_warm_up_products()), 1)
    except ModelLoadError:
        raise
    except Exception as error:
        raise ModelLoadError(f"{uri} failed its warm-up prediction: {error}") from error
    return ServedModel(
        name=name,
        version=version,
        alias=alias,
        run_id=loaded.run_id,
        loaded_at=datetime.now(UTC),
        predictor=predictor,
    )


def seconds_to_next_check(now: float, interval: float) -> float:
    """Seconds from ``now`` to the next registry check: the next multiple of ``interval``.

    Every process checks on the same wall-clock ticks (``now`` is ``time.time()``), so the
    workers of one API, and several API instances, see the alias move at the same check and
    load the new version side by side, instead of up to ``interval`` apart: otherwise two
    answers of one API, from two workers, can name different versions for that long.

    Args:
        now: Seconds since the epoch.
        interval: Seconds between checks (> 0).

    Returns:
        A delay in ``(0, interval]``.
    """
    return interval - now % interval


class ModelServer:
    """Serves the version a registry alias points at, and follows the alias as it moves."""

    def __init__(
        self,
        *,
        tracking_uri: str,
        model_name: str,
        model_alias: str,
        reload_interval: float,
        retry_failed_after: float = 300.0,
    ) -> None:
        self.tracking_uri = tracking_uri
        self.model_name = model_name
        self.model_alias = model_alias
        self.reload_interval = reload_interval
        self.retry_failed_after = retry_failed_after
        self._current: ServedModel | None = None
        self._failed_versions: dict[str, tuple[str, float]] = {}
        """Version → why it failed to load, and when (``time.monotonic()``)."""
        self._alias_target: AliasTarget | None = None
        self._registry_problem: RegistryProblem | None = None
        self._refresh_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def current(self) -> ServedModel | None:
        """The model being served (read it once per request), or ``None`` before any."""
        return self._current

    @property
    def alias_target(self) -> AliasTarget | None:
        """Where the alias pointed at the last successful registry check (``None`` before)."""
        return self._alias_target

    @property
    def registry_problem(self) -> RegistryProblem | None:
        """Why the last registry check failed, or ``None`` when it succeeded."""
        return self._registry_problem

    @property
    def model_uri(self) -> str:
        """The registry URI being followed."""
        return f"models:/{self.model_name}@{self.model_alias}"

    def resolve_alias(self) -> tuple[str, str | None] | None:
        """Return the (version, run id) the alias points at, or ``None`` when unset."""
        from product_classifier.tracking.registry import find_registered_version  # noqa: PLC0415

        found = find_registered_version(
            self.model_name, alias=self.model_alias, tracking_uri=self.tracking_uri
        )
        return (found.version, found.run_id) if found else None

    def _checked_alias(self) -> tuple[str, str | None] | None:
        """Ask the registry where the alias points; remember the answer or the failure.

        Raises:
            Exception: whatever the registry client raised (recorded as the registry problem).
        """
        now = datetime.now(UTC)
        try:
            target = self.resolve_alias()
        except Exception as error:
            problem = self._registry_problem
            self._registry_problem = RegistryProblem(
                error=describe_registry_error(error),
                since=problem.since if problem else now,
                last_attempt=now,
            )
            raise
        if self._registry_problem is not None:
            logger.info("The model registry answers again.")
        self._registry_problem = None
        version, run_id = target if target else (None, None)
        previous = self._alias_target
        if previous is not None and previous.version != version:
            # The alias moved: a version it comes back to deserves a new try.
            self._failed_versions.pop(version or "", None)
        failure = self._failed_versions.get(version or "")
        self._alias_target = AliasTarget(
            version, run_id, now, load_error=failure[0] if failure else None
        )
        return target

    def _should_skip(self, version: str) -> bool:
        """Whether ``version`` failed to load recently (less than ``retry_failed_after`` ago)."""
        failure = self._failed_versions.get(version)
        return failure is not None and time.monotonic() - failure[1] < self.retry_failed_after

    def refresh(self) -> bool:
        """Load the version the alias points at if it is not the one served.

        Returns:
            Whether another version is now served.
        """
        with self._refresh_lock:
            before = self._alias_target
            target = self._checked_alias()
            if target is None:
                if self._current is None and (before is None or before.version is not None):
                    logger.info("No model registered as %s yet.", self.model_uri)
                return False
            version, run_id = target
            current = self._current
            if current is not None and current.version == version:
                return False
            if self._should_skip(version):
                return False
            logger.info("Loading %s (version %s)...", self.model_uri, version)
            started = time.perf_counter()
            try:
                loaded = load_model_version(self.model_name, version, self.model_alias)
            except ModelLoadError as error:
                load_error = one_line(str(error))
                self._failed_versions[version] = (load_error, time.monotonic())
                self._alias_target = AliasTarget(
                    version, run_id, datetime.now(UTC), load_error=load_error
                )
                kept = current.label if current else "no model"
                logger.error(
                    "Version %s of %s failed to load; still serving %s (next try in %.0f s). "
                    "Reason: %s",
                    version,
                    self.model_name,
                    kept,
                    self.retry_failed_after,
                    error,
                )
                return False
            replaced = self._current
            self._current = loaded
            # A version that failed before and loads now is served: its old error goes.
            self._failed_versions.pop(version, None)
            self._alias_target = AliasTarget(version, run_id, datetime.now(UTC))
            seconds = time.perf_counter() - started
            record_model_load(
                loaded.name,
                loaded.version,
                loaded.alias,
                seconds,
                replaced=None
                if replaced is None
                else (replaced.name, replaced.version, replaced.alias),
            )
            logger.info("Now serving %s, loaded in %.1f s.", loaded.label, seconds)
            # What the load allocated for a moment (and the replaced model) leaves the process;
            # what stays is kept out of the full garbage collections.
            del replaced, current
            freeze_long_lived_objects()
            release_free_heap()
            return True

    def _poll(self) -> None:
        while not self._stop.wait(seconds_to_next_check(time.time(), self.reload_interval)):
            failing = self._registry_problem is not None
            try:
                self.refresh()
            except Exception as error:
                if failing:  # Already reported with its stack trace: one line per retry.
                    logger.warning("Still cannot check %s: %s", self.model_uri, error)
                else:
                    logger.exception("Cannot check %s; will retry.", self.model_uri)

    def start(self) -> None:
        """Start following the alias in a background thread."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._poll, name="model-reloader", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the background thread (waits for a load in progress, up to ``timeout``)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
