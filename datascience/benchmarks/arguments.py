"""Argument types of the benchmarks that ``scripts.cli_support`` has no ready-made one for.

Each one builds on :func:`scripts.cli_support.finite_float` (a number, not ``nan`` or ``inf``)
and adds the bound of the option: bad values are an argparse error line, not a traceback.
"""

import argparse

from scripts.cli_support import finite_float


def positive_float(text: str) -> float:
    """Argparse type: a finite number above 0 (a learning rate, seconds to wait)."""
    value = finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be above 0")
    return value


def non_negative_float(text: str) -> float:
    """Argparse type: a finite number of at least 0 (a penalty)."""
    value = finite_float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} must be at least 0")
    return value


def rate(text: str) -> float:
    """Argparse type: a rate from 0 (included) to 1 (excluded): a dropout, a label smoothing."""
    value = finite_float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"{text} must be at least 0 and below 1")
    return value
