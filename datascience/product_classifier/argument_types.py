"""Argparse types for integers and numbers with bounds, shared by every command and benchmark.

In the installed package (not ``scripts/``), so that the backend's benchmarks, whose own
``scripts`` package hides the datascience one, use the same types.
"""

import argparse
import math


def bounded_int(text: str, minimum: int, maximum: int | None = None) -> int:
    """Parse an integer from ``minimum`` to ``maximum`` (no upper bound when ``None``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"{text} must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise argparse.ArgumentTypeError(f"{text} must be at most {maximum}")
    return value


def positive_int(text: str) -> int:
    """Argparse type: an integer of at least 1."""
    return bounded_int(text, 1)


def non_negative_int(text: str) -> int:
    """Argparse type: an integer of at least 0."""
    return bounded_int(text, 0)


MAX_WORKERS = 256
"""Most worker processes a command starts (each holds its own interpreter and images)."""


def worker_count(text: str) -> int:
    """Argparse type: a number of worker processes, from 1 to :data:`MAX_WORKERS`."""
    return bounded_int(text, 1, MAX_WORKERS)


MAX_MODEL_VERSION = 2**31 - 1
"""Highest version MLflow's registry stores (a 32-bit ``INTEGER`` column on PostgreSQL)."""


def model_version(text: str) -> int:
    """Argparse type: a registered model version, from 1 to :data:`MAX_MODEL_VERSION`."""
    return bounded_int(text, 1, MAX_MODEL_VERSION)


def finite_float(text: str) -> float:
    """Parse a finite number (``nan`` and ``inf`` would switch every comparison off)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text} is not a finite number")
    return value
