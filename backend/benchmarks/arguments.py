"""Argument types of the backend benchmarks (the datascience commands' own, and one more)."""

import argparse

from product_classifier.argument_types import finite_float, positive_int

__all__ = ["positive_float", "positive_int"]


def positive_float(text: str) -> float:
    """Argparse type: a finite number above 0."""
    value = finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be above 0")
    return value
