"""Gather concurrent prediction requests into one model call (adaptive micro-batching).

The method is the one of BentoML's adaptive batching and Ray Serve's ``@serve.batch``: requests
that arrive while the model is busy wait in a queue; when the model is free, everything queued
(up to ``max_size`` rows, all for the same served model) goes into the next call, and each
request receives its own rows of the answer. ``max_wait`` adds an optional wait for more rows
before a call; at its default (0) a lone request is never delayed: batches form only from the
requests that queue while the previous call runs, so batches grow with the load. A request
that finds the batcher idle is called at once from its own task (a batch of one, without the
hand-off to the batcher's worker task: about 0.2 ms less at one client).

One request's failure never fails the others: when a call of several requests raises, each
request is called again alone and only the faulty one receives the error. A request cancelled
while it waits (its client went away) is left out of the call; one cancelled during the call
simply drops its rows.
"""

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import anyio.to_thread

logger = logging.getLogger(__name__)

KeyT = TypeVar("KeyT")
RowT = TypeVar("RowT")
OutT = TypeVar("OutT")


@dataclass(frozen=True, slots=True)
class BatchedAnswer(Generic[OutT]):
    """One request's rows of a model call, and what that call was."""

    outputs: list[OutT]
    """The answer for each row the request submitted, in its order."""
    call_seconds: float
    """Duration of the model call that answered (shared by every request of the batch)."""
    batch_rows: int
    """Rows of that call, all requests together."""


@dataclass(frozen=True, slots=True)
class BatchFigures:
    """What one model call gathered: for metrics."""

    rows: int
    """Rows of the call, as the submissions counted for (their ``size``)."""
    requests: int
    waits: list[float]
    """Seconds each request waited, from its submission to the start of the call."""
    call_seconds: float


@dataclass(eq=False, slots=True)
class _Pending(Generic[KeyT, RowT, OutT]):
    key: KeyT
    items: Sequence[RowT]
    future: asyncio.Future[BatchedAnswer[OutT]]
    size: int
    """What the submission counts for against ``max_size`` (its rows, unless told)."""
    submitted: float = field(default_factory=time.perf_counter)


class MicroBatcher(Generic[KeyT, RowT, OutT]):
    """Run ``handler`` on the rows of concurrent submissions, gathered by key.

    Create it, and submit to it, from the event loop that serves the requests (the
    application's lifespan creates one per start).

    Args:
        handler: ``handler(key, rows) -> outputs``, one output per row, in order; blocking
            (it runs in a worker thread). Rows of different keys (served model versions) never
            share a call; keys are compared by identity.
        max_size: Most rows in one call (a single submission with more rows is called alone);
            a submission counts for its rows, or for the ``size`` it was submitted with.
        max_wait: Seconds to wait for more rows once the first request of a call is queued
            (0: call as soon as the model is free).
        on_batch: Called on the event loop after each successful call, with its figures.

    Raises:
        ValueError: ``max_size`` below 1 or ``max_wait`` negative.
    """

    def __init__(
        self,
        handler: Callable[[KeyT, list[RowT]], list[OutT]],
        *,
        max_size: int,
        max_wait: float = 0.0,
        on_batch: Callable[[BatchFigures], None] | None = None,
    ) -> None:
        if max_size < 1 or max_wait < 0:
            raise ValueError("max_size must be at least 1 and max_wait at least 0")
        self._handler = handler
        self.max_size = max_size
        self.max_wait = max_wait
        self._on_batch = on_batch
        self._queue: deque[_Pending[KeyT, RowT, OutT]] = deque()
        self._arrived = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._busy = False
        """A call is being made or gathered (a request arriving then queues for the next)."""
        self._alone: asyncio.Task[object] | None = None
        """The request task calling the handler itself (:meth:`_call_alone`), if any."""

    async def submit(
        self, key: KeyT, items: Sequence[RowT], *, size: int | None = None
    ) -> BatchedAnswer[OutT]:
        """Queue ``items`` for the next call with ``key``; wait for their outputs.

        ``size`` is what the submission counts for against ``max_size`` (default: its rows),
        e.g. the products of one request submitted as one row.

        Raises:
            Exception: whatever ``handler`` raised on these rows (called alone).
            asyncio.CancelledError: the batcher was closed before the rows were called.
        """
        if not items:
            return BatchedAnswer([], 0.0, 0)
        loop = asyncio.get_running_loop()
        pending: _Pending[KeyT, RowT, OutT] = _Pending(
            key, items, loop.create_future(), len(items) if size is None else size
        )
        if not self._busy and not self._queue and self.max_wait == 0:
            return await self._call_alone(pending)
        self._queue.append(pending)
        self._arrived.set()
        if self._worker is None or self._worker.done():
            self._worker = loop.create_task(self._work(), name="micro-batcher")
        # Awaiting the future directly: a cancelled request cancels it, and the worker skips it.
        return await pending.future

    async def aclose(self) -> None:
        """Stop the worker; requests still queued are cancelled."""
        worker, self._worker = self._worker, None
        if self._alone is not None:  # as a call of the worker's: it will not be answered
            self._alone.cancel()
        if worker is not None:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        while self._queue:
            self._queue.popleft().future.cancel()

    async def _call_alone(self, pending: _Pending[KeyT, RowT, OutT]) -> BatchedAnswer[OutT]:
        """Call an idle batcher's handler on one request, in the request's own task."""
        self._busy, self._alone = True, asyncio.current_task()
        try:
            await self._call([pending])
        finally:
            self._busy, self._alone = False, None
            if self._queue:  # arrived during the call: the worker gathers them now
                self._arrived.set()
        return pending.future.result()

    async def _work(self) -> None:
        while True:
            while not self._queue or self._busy:
                self._arrived.clear()
                await self._arrived.wait()
            self._busy = True
            try:
                batch = await self._gather()
                if batch:
                    await self._call(batch)
            finally:
                self._busy = False

    def _next_live(self) -> _Pending[KeyT, RowT, OutT] | None:
        """The first queued request still waiting (cancelled ones are dropped)."""
        while self._queue and self._queue[0].future.done():
            self._queue.popleft()
        return self._queue[0] if self._queue else None

    async def _gather(self) -> list[_Pending[KeyT, RowT, OutT]]:
        first = self._next_live()
        if first is None:
            return []
        self._queue.popleft()
        batch, rows = [first], first.size
        deadline = time.perf_counter() + self.max_wait
        while rows < self.max_size:
            following = self._next_live()
            if following is None:
                remaining = deadline - time.perf_counter()
                if remaining <= 0:
                    break
                self._arrived.clear()
                try:
                    await asyncio.wait_for(self._arrived.wait(), remaining)
                except TimeoutError:
                    break
                continue
            if following.key is not first.key or rows + following.size > self.max_size:
                break
            self._queue.popleft()
            batch.append(following)
            rows += following.size
        return batch

    async def _call(self, batch: list[_Pending[KeyT, RowT, OutT]]) -> None:
        rows = [item for pending in batch for item in pending.items]
        started = time.perf_counter()
        try:
            outputs = await anyio.to_thread.run_sync(self._handler, batch[0].key, rows)
            if len(outputs) != len(rows):
                raise ValueError(f"expected {len(rows)} outputs, got {len(outputs)}")
        except asyncio.CancelledError:
            for pending in batch:  # the batcher is closing: nobody will answer them
                pending.future.cancel()
            raise
        except Exception as error:
            if len(batch) == 1:
                _settle(batch[0], error)
                return
            # Find the faulty request: each one alone, so the others still get their answer.
            for pending in batch:
                await self._call([pending])
            return
        seconds = time.perf_counter() - started
        start = 0
        for pending in batch:
            end = start + len(pending.items)
            _settle(pending, BatchedAnswer(outputs[start:end], seconds, len(rows)))
            start = end
        if self._on_batch is not None:
            waits = [started - pending.submitted for pending in batch]
            size = sum(pending.size for pending in batch)
            self._on_batch(BatchFigures(size, len(batch), waits, seconds))


def _settle(pending: _Pending[KeyT, RowT, OutT], result: BatchedAnswer[OutT] | Exception) -> None:
    """Give a request its answer or error, unless it was cancelled meanwhile."""
    if pending.future.done():
        return
    if isinstance(result, Exception):
        pending.future.set_exception(result)
    else:
        pending.future.set_result(result)
