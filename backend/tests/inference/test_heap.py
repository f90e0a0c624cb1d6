"""Freed C-heap memory goes back to the system after a model load (glibc ``malloc_trim``)."""

import ctypes
from pathlib import Path

import pytest

from app.inference.heap import release_free_heap


def _resident_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


@pytest.mark.skipif(
    getattr(ctypes.CDLL(None), "malloc_trim", None) is None, reason="needs glibc's malloc_trim"
)
def test_freed_heap_pages_leave_the_process() -> None:
    # 200 MB in 4 KB blocks (above pymalloc's limit, so from malloc), the last one kept alive:
    # it pins the top of the heap, so glibc cannot give the rest back on its own.
    blocks = [bytearray(4096) for _ in range(50_000)]
    last = blocks[-1]
    del blocks
    before = _resident_mb()
    assert release_free_heap()
    assert before - _resident_mb() > 100
    del last
