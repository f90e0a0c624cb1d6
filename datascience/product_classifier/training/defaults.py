"""Training defaults shared by the training CLIs and the training plan (no TensorFlow import)."""

from typing import Final

REFIT_BY_DEFAULT: Final = "text"
"""The kind that refits by default: it trains in seconds and gains from 15% more rows."""
