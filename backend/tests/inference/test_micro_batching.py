"""The micro-batcher: gathering, limits, keys, failures and cancellation (no model needed)."""

import asyncio
import functools
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from app.inference.micro_batching import BatchedAnswer, BatchFigures, MicroBatcher

Calls = list[tuple[str, list[int]]]


def in_own_event_loop(test: Callable[[], Coroutine[Any, Any, None]]) -> Callable[[], None]:
    """Run the coroutine test with ``asyncio.run`` in a thread of its own.

    The batcher runs on asyncio, as uvicorn serves the API; a fresh thread keeps each test's
    event loop apart from whatever an earlier test left in the main thread.
    """

    @functools.wraps(test)
    def run() -> None:
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(asyncio.run, test()).result()

    del run.__wrapped__  # pytest must see a plain function, not the coroutine
    return run


def recording_handler(
    calls: Calls, *, delay: float = 0.0, gate: threading.Event | None = None
) -> Callable[[str, list[int]], list[int]]:
    """A blocking handler doubling each row, refusing the row -1, remembering its calls."""

    def handler(key: str, rows: list[int]) -> list[int]:
        if gate is not None:
            gate.wait(5)
        time.sleep(delay)
        calls.append((key, list(rows)))
        if -1 in rows:
            raise ValueError("row -1 refused")
        return [2 * row for row in rows]

    return handler


async def busy_batcher(
    calls: Calls, gate: threading.Event
) -> tuple[MicroBatcher[str, int, int], "asyncio.Future[BatchedAnswer[int]]"]:
    """A batcher whose first call (the row 0) is running, blocked until ``gate`` is set."""
    batcher = MicroBatcher(recording_handler(calls, gate=gate), max_size=64)
    running = asyncio.ensure_future(batcher.submit("m", [0]))
    await asyncio.sleep(0.05)
    return batcher, running


@in_own_event_loop
async def test_concurrent_submissions_share_one_call() -> None:
    calls: Calls = []
    figures: list[BatchFigures] = []
    batcher = MicroBatcher(
        recording_handler(calls), max_size=16, max_wait=1.0, on_batch=figures.append
    )
    answers = await asyncio.gather(*(batcher.submit("m", [i, i + 100]) for i in range(8)))
    await batcher.aclose()
    assert [answer.outputs for answer in answers] == [[2 * i, 2 * i + 200] for i in range(8)]
    assert len(calls) == 1
    assert all(answer.batch_rows == 16 for answer in answers)
    assert figures[0].rows == 16
    assert figures[0].requests == 8
    assert len(figures[0].waits) == 8


@in_own_event_loop
async def test_a_lone_request_is_not_delayed_without_max_wait() -> None:
    calls: Calls = []
    batcher = MicroBatcher(recording_handler(calls), max_size=16)
    started = time.perf_counter()
    answer = await batcher.submit("m", [1])
    elapsed = time.perf_counter() - started
    await batcher.aclose()
    assert answer.outputs == [2]
    assert elapsed < 0.5


@in_own_event_loop
async def test_requests_queued_while_the_model_is_busy_form_the_next_call() -> None:
    calls: Calls = []
    gate = threading.Event()
    batcher, first = await busy_batcher(calls, gate)
    others = [asyncio.ensure_future(batcher.submit("m", [i])) for i in range(1, 6)]
    await asyncio.sleep(0.05)
    gate.set()
    await asyncio.gather(first, *others)
    await batcher.aclose()
    assert calls == [("m", [0]), ("m", [1, 2, 3, 4, 5])]


def _batcher_tasks() -> list["asyncio.Task[Any]"]:
    return [task for task in asyncio.all_tasks() if task.get_name() == "micro-batcher"]


@in_own_event_loop
async def test_a_request_finding_the_batcher_idle_is_called_from_its_own_task() -> None:
    calls: Calls = []
    figures: list[BatchFigures] = []
    batcher = MicroBatcher(recording_handler(calls), max_size=64, on_batch=figures.append)
    answer = await batcher.submit("m", [3])
    assert answer.outputs == [6]
    assert not _batcher_tasks()  # no hand-off to the batcher's task
    assert [(each.rows, each.requests) for each in figures] == [(1, 1)]
    # While that call runs, the requests that arrive queue and form the next call together.
    gate = threading.Event()
    batcher = MicroBatcher(recording_handler(calls, gate=gate), max_size=64)
    alone = asyncio.ensure_future(batcher.submit("m", [0]))
    await asyncio.sleep(0.05)
    queued = [asyncio.ensure_future(batcher.submit("m", [i])) for i in (1, 2)]
    await asyncio.sleep(0.05)
    assert len(_batcher_tasks()) == 1
    gate.set()
    answers = await asyncio.gather(alone, *queued)
    await batcher.aclose()
    assert [each.outputs for each in answers] == [[0], [2], [4]]
    assert calls[1:] == [("m", [0]), ("m", [1, 2])]


@in_own_event_loop
async def test_max_size_bounds_each_call_but_never_splits_a_request() -> None:
    calls: Calls = []
    batcher = MicroBatcher(recording_handler(calls), max_size=4, max_wait=0.5)
    answers = await asyncio.gather(
        batcher.submit("m", [1, 2, 3]), batcher.submit("m", [4, 5]), batcher.submit("m", [6] * 6)
    )
    await batcher.aclose()
    assert [answer.outputs for answer in answers] == [[2, 4, 6], [8, 10], [12] * 6]
    assert [rows for _, rows in calls] == [[1, 2, 3], [4, 5], [6] * 6]


@in_own_event_loop
async def test_rows_of_different_keys_never_share_a_call() -> None:
    calls: Calls = []
    batcher = MicroBatcher(recording_handler(calls), max_size=16, max_wait=0.2)
    answers = await asyncio.gather(
        batcher.submit("v1", [1]), batcher.submit("v2", [2]), batcher.submit("v1", [3])
    )
    await batcher.aclose()
    assert [answer.outputs for answer in answers] == [[2], [4], [6]]
    assert calls == [("v1", [1]), ("v2", [2]), ("v1", [3])]


@in_own_event_loop
async def test_one_failing_request_does_not_fail_the_others() -> None:
    calls: Calls = []
    batcher = MicroBatcher(recording_handler(calls), max_size=16, max_wait=0.5)
    results = await asyncio.gather(
        batcher.submit("m", [1]),
        batcher.submit("m", [-1]),
        batcher.submit("m", [3]),
        return_exceptions=True,
    )
    await batcher.aclose()
    assert results[0].outputs == [2]  # type: ignore[union-attr]
    assert isinstance(results[1], ValueError)
    assert results[2].outputs == [6]  # type: ignore[union-attr]
    assert calls[0] == ("m", [1, -1, 3])  # together first, then each alone


@in_own_event_loop
async def test_a_cancelled_request_is_left_out_and_the_others_answered() -> None:
    calls: Calls = []
    gate = threading.Event()
    batcher, busy = await busy_batcher(calls, gate)
    gone = asyncio.ensure_future(batcher.submit("m", [1]))
    kept = asyncio.ensure_future(batcher.submit("m", [2]))
    await asyncio.sleep(0.01)
    gone.cancel()
    gate.set()
    assert (await busy).outputs == [0]
    assert (await kept).outputs == [4]
    with pytest.raises(asyncio.CancelledError):
        await gone
    await batcher.aclose()
    assert calls == [("m", [0]), ("m", [2])]


@in_own_event_loop
async def test_closing_cancels_the_requests_still_queued() -> None:
    calls: Calls = []
    gate = threading.Event()
    batcher, running = await busy_batcher(calls, gate)
    queued = asyncio.ensure_future(batcher.submit("m", [1]))
    await asyncio.sleep(0.01)
    await batcher.aclose()
    gate.set()
    for future in (running, queued):
        with pytest.raises(asyncio.CancelledError):
            await future


def test_limits_are_checked() -> None:
    with pytest.raises(ValueError, match="max_size"):
        MicroBatcher(recording_handler([]), max_size=0)
    with pytest.raises(ValueError, match="max_wait"):
        MicroBatcher(recording_handler([]), max_size=1, max_wait=-1)
