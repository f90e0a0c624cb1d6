"""Serve concurrent ``/predict/`` and ``/predict/batch`` requests together: request batching.

With ``MICRO_BATCHING_ENABLED``, a request does not run its own worker-thread step
(:func:`app.api.predict_serving.serve_in_one_step`): it is queued in the application's
:class:`~app.inference.micro_batching.MicroBatcher`, and the requests queued while the previous
batch ran are served together by :func:`serve_batch`, in ONE worker-thread step: one session,
the users and products checked one request after the other, ONE model call for all their
products, ONE flush inserting all their predictions and ONE commit. The per-request costs that
do not depend on the request (the thread hand-off, the session, the model call's overhead, the
insert statement, the commit) are paid once per batch. A request that finds the batcher idle
is served at once as a batch of one, from its own task.

Each request still gets its own answer, as if it had been served alone:

- a request refused while checked (401 or 403 user, 4xx products, no model: 503) gets its
  error, and the others go on;
- a model call that fails is made again for each request alone, so only the faulty ones fail;
- when the database cannot be reached (:func:`~app.api.database_unavailable.is_unavailable`),
  every request of the batch gets that error (answered 503 with ``Retry-After``) and nothing of
  the batch is written (one transaction, rolled back); any other database error makes each
  request of the batch be stored and committed again alone, so that one request's row cannot
  fail the others'. Nothing is answered before its prediction is committed.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from opentelemetry.context import Context
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.api.database_unavailable import is_unavailable
from app.api.deps import TokenBearer, check_active_user
from app.api.predict_serving import (
    PrepareProducts,
    Serving,
    check_request,
    keep_and_shadow,
    served_or_503,
)
from app.api.unit_of_work import commit_unit_of_work
from app.core.config import Settings
from app.db.models import Prediction
from app.inference.micro_batching import BatchFigures, MicroBatcher
from app.inference.model_server import ModelServer, ServedModel
from app.inference.predictions import (
    ModelAnswer,
    ProductRequest,
    call_model,
    prediction_rows,
    save_predictions,
)
from app.telemetry.metrics import record_micro_batch, record_micro_batch_rows
from app.telemetry.tracing import current_trace_context, in_trace_context


@dataclass(frozen=True, slots=True)
class ServeJob:
    """One request waiting to be served in a batch."""

    serving: Serving
    bearer: TokenBearer
    """Who asked (the token's user, checked again when the job is served)."""
    prepare: PrepareProducts
    limit: int | None
    trace_context: Context = field(default_factory=current_trace_context)
    """The request's trace, where its steps' spans go (taken where the job is made)."""


@dataclass(slots=True)
class ServeOutcome:
    """What serving one request of a batch gave: its stored predictions, or its error."""

    served: ServedModel | None = None
    stored: list[Prediction] = field(default_factory=list)
    error: Exception | None = None


RequestBatcher = MicroBatcher[ModelServer, ServeJob, ServeOutcome]
"""Gathers concurrent requests of one application (keyed by its model server) into batches."""


@dataclass(slots=True)
class _Checked:
    """A request of the batch that passed its checks, and then its model answer."""

    job: ServeJob
    outcome: ServeOutcome
    requests: list[ProductRequest]
    answer: ModelAnswer | None = None


def _check_all(
    session: Session, served: ServedModel | None, jobs: list[ServeJob], outcomes: list[ServeOutcome]
) -> list[_Checked]:
    """Check each request; a refused one gets its own error in ``outcomes``.

    Raises:
        SQLAlchemyError: the database failed (it would fail every request alike).
    """
    checked = []
    for job, outcome in zip(jobs, outcomes, strict=True):
        try:
            with in_trace_context(job.trace_context):
                requests = check_request(session, served, job.bearer, job.prepare)
                served_or_503(job.serving, served)
        except SQLAlchemyError:
            raise
        except Exception as error:  # the request's own fault: 4xx, or no model (503)
            outcome.error = error
            continue
        checked.append(_Checked(job, outcome, requests))
    return checked


def _predict_all(served: ServedModel, checked: list[_Checked]) -> list[_Checked]:
    """One model call for every checked request; alone for each when it fails.

    Returns:
        The requests that have their answer (the others have their error in their outcome).
    """
    products = [request for item in checked for request in item.requests]
    try:
        answer = call_model(served, products)
    except Exception:
        if len(checked) == 1:
            raise
        return [item for item in checked if _predict_alone(served, item)]
    record_micro_batch_rows(len(products))
    start = 0
    for item in checked:
        end = start + len(item.requests)
        item.answer = ModelAnswer(answer.outputs[start:end], answer.latency_ms)
        start = end
    return checked


def _predict_alone(served: ServedModel, item: _Checked) -> bool:
    try:
        with in_trace_context(item.job.trace_context):
            item.answer = call_model(served, item.requests)
    except Exception as error:
        item.outcome.error = error
        return False
    return True


def _store_and_commit(session: Session, served: ServedModel, answered: list[_Checked]) -> None:
    """Insert the predictions of ``answered`` in one flush, keep their images, commit once."""
    rows = []
    for item in answered:
        assert item.answer is not None  # set by _predict_all
        item.outcome.stored = prediction_rows(
            served,
            item.requests,
            item.answer,
            user_id=item.job.bearer.user_id,
            limit=item.job.limit,
        )
        rows += item.outcome.stored
    save_predictions(session, served, rows)
    for item in answered:
        keep_and_shadow(session, item.job.serving, served, item.requests, item.outcome.stored)
    commit_unit_of_work(session)
    for item in answered:
        item.outcome.served = served


def _store_each_alone(serving: Serving, served: ServedModel, answered: list[_Checked]) -> None:
    """Store and commit each request in its own unit of work (its user checked again)."""
    for item in answered:
        try:
            with in_trace_context(item.job.trace_context), serving.session_factory() as session:
                check_active_user(session, item.job.bearer)
                _store_and_commit(session, served, [item])
        except Exception as error:
            item.outcome.error = error


@contextmanager
def _failing_all(outcomes: list[ServeOutcome]) -> Iterator[None]:
    """Give every request still without an error the exception the block raised."""
    try:
        yield
    except Exception as error:
        for outcome in outcomes:
            if outcome.error is None:
                outcome.served, outcome.stored, outcome.error = None, [], error


def serve_batch(server: ModelServer, jobs: list[ServeJob]) -> list[ServeOutcome]:
    """Serve the gathered requests in this (worker) thread: check, predict, store, commit.

    Args:
        server: The application's model server (the batcher's key).
        jobs: The requests, in the order they were queued.

    Returns:
        One outcome per request, in order: its served model and stored predictions, or the
        error to answer it with.
    """
    outcomes = [ServeOutcome() for _ in jobs]
    serving = jobs[0].serving
    served = server.current
    with _failing_all(outcomes), serving.session_factory() as session:
        checked = _check_all(session, served, jobs, outcomes)
        if not checked:
            return outcomes
        served = served_or_503(serving, served)  # checked requests were not refused: a model
        # The shared steps (one model call, one write) go in the first request's trace.
        with in_trace_context(checked[0].job.trace_context):
            answered = _predict_all(served, checked)
        if not answered:
            return outcomes
        try:
            with in_trace_context(answered[0].job.trace_context):
                _store_and_commit(session, served, answered)
        except SQLAlchemyError as error:
            session.rollback()
            if len(answered) == 1 or is_unavailable(error):
                raise
            _store_each_alone(serving, served, answered)
    return outcomes


def _record_batch(figures: BatchFigures) -> None:
    record_micro_batch(figures.waits)


def new_request_batcher(settings: Settings) -> RequestBatcher | None:
    """The request batcher the settings ask for, or ``None`` when micro-batching is off.

    At most ``MICRO_BATCH_MAX_SIZE`` products per batch, waiting ``MICRO_BATCH_MAX_WAIT_MS``
    for more requests. Create it on the event loop that serves the requests (in the
    application's lifespan).
    """
    if not settings.MICRO_BATCHING_ENABLED:
        return None
    return MicroBatcher(
        serve_batch,
        max_size=settings.MICRO_BATCH_MAX_SIZE,
        max_wait=settings.MICRO_BATCH_MAX_WAIT_MS / 1000.0,
        on_batch=_record_batch,
    )


async def serve_gathered(
    batcher: RequestBatcher, job: ServeJob, products: int
) -> tuple[ServedModel, list[Prediction]]:
    """Serve ``job`` in the next batch; answer as if it had been served alone.

    Args:
        batcher: The application's request batcher.
        job: The request.
        products: How many products it sends (what it counts for in a batch).

    Raises:
        Exception: the request's own error (4xx, 503 no model or database, ...).
    """
    answer = await batcher.submit(job.serving.server, [job], size=products)
    outcome = answer.outputs[0]
    if outcome.error is not None:
        raise outcome.error
    assert outcome.served is not None  # set with the stored predictions
    return outcome.served, outcome.stored
