"""Numbers written the way the web page writes them (JavaScript ``toFixed``, French comma)."""

from decimal import ROUND_HALF_UP, Decimal

NBSP = "\u00a0"


def js_fixed(value: float, digits: int) -> str:
    """Return ``value.toFixed(digits)`` as JavaScript computes it, with a decimal comma.

    ``toFixed`` rounds the exact binary value half up; Python's format rounds ties to even.
    """
    quantum = Decimal(1).scaleb(-digits)
    return str(Decimal(value).quantize(quantum, rounding=ROUND_HALF_UP)).replace(".", ",")


def french_percent(percent: float, digits: int = 1) -> str:
    """A value already in percent, as the page shows it: ``42,3 %``."""
    return f"{js_fixed(percent, digits)}{NBSP}%"


def french_ratio(ratio: float, digits: int = 1) -> str:
    """A ratio 0..1 as the page shows it in percent: ``75,0 %``."""
    return french_percent(ratio * 100, digits)
