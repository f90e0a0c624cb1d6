"""Run a function over many tasks in worker processes, with a progress bar."""

import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Sequence
from multiprocessing.context import BaseContext
from typing import TypeVar

from tqdm import tqdm

TaskT = TypeVar("TaskT")
ResultT = TypeVar("ResultT")


class _Progress(tqdm):  # type: ignore[type-arg]
    """A progress bar without tqdm's monitor thread (so the process stays safe to fork)."""

    monitor_interval = 0


def default_workers() -> int:
    """Return the default number of worker processes: the number of CPUs."""
    return os.cpu_count() or 1


def _context() -> BaseContext:
    """Fork when it is safe (Linux, no other Python thread): workers start at once.

    Otherwise spawn fresh interpreters, which re-import the main module but cannot inherit a lock
    held by another thread.
    """
    if sys.platform == "linux" and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def parallel_map(
    function: Callable[[TaskT], ResultT],
    tasks: Sequence[TaskT],
    *,
    workers: int | None = None,
    description: str = "Working",
    unit: str = "item",
) -> list[ResultT]:
    """Apply ``function`` to every task, in ``workers`` processes, showing a progress bar.

    With one worker, or a single task, everything runs in this process.

    Args:
        function: A module-level (picklable) function.
        tasks: Its arguments, one per call (picklable).
        workers: Number of processes (default: the number of CPUs).
        description: Label of the progress bar.
        unit: Unit shown by the progress bar.

    Returns:
        The results, in task order.
    """
    if not tasks:
        return []
    workers = max(1, min(workers or default_workers(), len(tasks)))
    if workers == 1:
        with _Progress(total=len(tasks), desc=description, unit=unit, mininterval=0.5) as progress:
            results = []
            for task in tasks:
                results.append(function(task))
                progress.update()
            return results
    chunksize = max(1, min(32, len(tasks) // (workers * 8)))
    # The pool is created before the progress bar: nothing else runs when the workers start.
    with (
        _context().Pool(workers) as pool,
        _Progress(total=len(tasks), desc=description, unit=unit, mininterval=0.5) as progress,
    ):
        ordered: list[ResultT] = []
        for result in pool.imap(function, tasks, chunksize=chunksize):
            ordered.append(result)
            progress.update()
        return ordered
