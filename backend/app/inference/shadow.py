"""Predict every served request with the challenger too, off the response path.

A request hands its products to :meth:`ShadowPredictor.submit` once its unit of work has
committed the champion's predictions (:func:`shadow_after_commit`). The products wait in a
bounded queue; one background thread predicts them with the version ``MODEL_CHALLENGER_ALIAS``
points at and stores the answers in ``shadow_predictions``, linked to the champion's
predictions. When the queue is full the request is not shadowed and the drop is counted: the
caller never waits for the challenger, and a challenger that fails (or is missing) changes
nothing for the caller, only ``shadow_predictions_total{outcome="failed"}``.

The worker is its own unit of work: one commit per shadowed request.
"""

import logging
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from app.db.crud.shadow_predictions import add_shadow_predictions
from app.db.models import ShadowPrediction
from app.inference.model_server import ModelServer, ServedModel
from app.inference.predictions import plain_results
from app.telemetry.metrics import record_shadow, record_shadow_dropped
from product_classifier.serving.contract import ProductInput

logger = logging.getLogger(__name__)

_STOP: Final = None


@dataclass(frozen=True, slots=True)
class ShadowJob:
    """The products of one served request and the ids of the champion's predictions."""

    champion_version: str
    prediction_ids: tuple[int, ...]
    products: tuple[ProductInput, ...]


class ShadowPredictor:
    """A bounded queue of served requests and the thread predicting them with the challenger."""

    def __init__(
        self,
        challenger: ModelServer,
        session_factory: sessionmaker[Session],
        *,
        queue_size: int,
    ) -> None:
        self.challenger = challenger
        self.session_factory = session_factory
        self._queue: queue.Queue[ShadowJob | None] = queue.Queue(maxsize=queue_size)
        self._thread: threading.Thread | None = None

    def active_challenger(self, champion_version: str) -> ServedModel | None:
        """The challenger to shadow ``champion_version`` with, or ``None``.

        ``None`` when the alias points at no version now (even if one was loaded before), or at
        the champion's own version.
        """
        served = self.challenger.current
        target = self.challenger.alias_target
        if served is None or target is None or target.version is None:
            return None
        return None if served.version == champion_version else served

    def submit(self, job: ShadowJob) -> bool:
        """Queue ``job`` without waiting; count it as dropped when the queue is full.

        Returns:
            Whether the job was queued.
        """
        if self.active_challenger(job.champion_version) is None:
            return False
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            record_shadow_dropped()
            return False
        return True

    def run_one(self, job: ShadowJob) -> int:
        """Predict one job with the challenger and store the answers.

        Returns:
            Shadow predictions stored (0 when the challenger is gone or failed; logged).
        """
        served = self.active_challenger(job.champion_version)
        if served is None:
            return 0
        try:
            started = time.perf_counter()
            outputs = served.predict(job.products)
            seconds = time.perf_counter() - started
            rows = [
                ShadowPrediction(
                    prediction_id=prediction_id,
                    model_name=served.name,
                    model_version=served.version,
                    results=plain_results(output),
                    latency_ms=seconds * 1000.0,
                )
                for prediction_id, output in zip(job.prediction_ids, outputs, strict=True)
            ]
            with self.session_factory() as session:
                add_shadow_predictions(session, rows)
                session.commit()
        except Exception:
            logger.exception("The challenger %s failed on a shadowed request.", served.label)
            record_shadow(served.name, served.version, len(job.products), seconds=None)
            return 0
        record_shadow(served.name, served.version, len(rows), seconds=seconds)
        return len(rows)

    def _work(self) -> None:
        while (job := self._queue.get()) is not _STOP:
            try:
                self.run_one(job)
            finally:
                self._queue.task_done()
        self._queue.task_done()

    def join(self) -> None:
        """Wait until every queued job is done (for tests and benchmarks)."""
        self._queue.join()

    def start(self) -> None:
        """Start the background thread."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="shadow-predictor", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the queued jobs (up to ``timeout``) and stop the thread."""
        if self._thread is None:
            return
        self._queue.put(_STOP)
        self._thread.join(timeout)
        self._thread = None


def shadow_after_commit(
    session: Session,
    shadow: ShadowPredictor | None,
    champion_version: str,
    prediction_ids: Sequence[int],
    products: Sequence[ProductInput],
) -> None:
    """Hand the request to the shadow once ``session`` has committed the champion's predictions.

    Nothing happens without a shadow predictor, or when the unit of work rolls back.
    """
    if shadow is None or shadow.active_challenger(champion_version) is None:
        return
    job = ShadowJob(champion_version, tuple(prediction_ids), tuple(products))
    event.listen(session, "after_commit", lambda _session: shadow.submit(job), once=True)
