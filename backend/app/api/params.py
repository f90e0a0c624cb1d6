"""Query and path parameters shared by several routes, bounded like the columns they reach."""

import re
from typing import Annotated, Final

from fastapi import Path, Query
from pydantic import BeforeValidator

from app.schemas.bounds import INT32_MAX, MODEL_VERSION_PATTERN

MAX_PAGE_SIZE: Final = 1000
"""Most rows one listing returns."""

# Digits, with a minus sign at most (for the bound's own message): no "+", no exponent.
_WHOLE_NUMBER: Final = re.compile(r"-?[0-9]+")
# Digits with a decimal point; nan and inf pass, for the field's finite-number check to name them.
_DECIMAL_NUMBER: Final = re.compile(
    r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)|-?(?:nan|inf|infinity)", re.IGNORECASE
)


def _written_as(pattern: re.Pattern[str], example: str) -> BeforeValidator:
    def check(value: object) -> object:
        if isinstance(value, str) and not pattern.fullmatch(value):
            raise ValueError(f"Input should be a number written as {example}")
        return value

    return BeforeValidator(check)


WholeNumber: Final = _written_as(_WHOLE_NUMBER, "decimal digits, such as 10")
"""A query integer as digits only: pydantic would read ``1.0``, ``1_0``, `` 1 ``, ``+1`` or
``1e1`` too."""
DecimalNumber: Final = _written_as(_DECIMAL_NUMBER, "digits, such as 7 or 0.5")
"""A query number as digits with an optional decimal point (no ``1_0``, spaces, ``+`` or
exponent)."""

SkipQuery = Annotated[
    int,
    Query(ge=0, le=INT32_MAX, description="Rows to skip before the first one returned."),
    WholeNumber,
]
PageSizeQuery = Annotated[
    int, Query(ge=1, le=MAX_PAGE_SIZE, description="Most rows to return."), WholeNumber
]
IdPath = Annotated[int, Path(ge=1, le=INT32_MAX, description="The row id (1 to 2^31 - 1).")]
VersionQuery = Annotated[
    str | None,
    Query(pattern=MODEL_VERSION_PATTERN, description="Only this model version (1, 2, 3...)."),
]
"""A ``model_version`` filter, written as the API stores versions (see
:data:`~app.schemas.bounds.MODEL_VERSION_PATTERN`): ``01`` or `` 1`` would match no row."""
MonitoredVersionQuery = Annotated[
    str | None,
    Query(
        pattern=MODEL_VERSION_PATTERN,
        description="A model version, 1, 2, 3... (default: see the route).",
    ),
]
"""A ``model_version`` a monitoring route looks at, written as :data:`VersionQuery`."""
