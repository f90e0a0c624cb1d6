"""Query and path parameters shared by several routes, bounded like the columns they reach."""

import re
from typing import Annotated, Final

from fastapi import Path, Query
from pydantic import BeforeValidator

from app.schemas.bounds import INT32_MAX, VERSION_MAX_LENGTH

MAX_PAGE_SIZE: Final = 1000
"""Most rows one listing returns."""

_WHOLE_NUMBER: Final = re.compile(r"[+-]?[0-9]+")
# Decimal notation; nan and inf pass, for the field's own finite-number check to name them.
_DECIMAL_NUMBER: Final = re.compile(
    r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?(?:nan|inf|infinity)",
    re.IGNORECASE,
)


def _written_as(pattern: re.Pattern[str], example: str) -> BeforeValidator:
    def check(value: object) -> object:
        if isinstance(value, str) and not pattern.fullmatch(value):
            raise ValueError(f"Input should be a number written as {example}")
        return value

    return BeforeValidator(check)


WholeNumber: Final = _written_as(_WHOLE_NUMBER, "decimal digits, such as 10")
"""A query integer as digits only: pydantic would read ``1.0``, ``1_0`` or `` 1 `` too."""
DecimalNumber: Final = _written_as(_DECIMAL_NUMBER, "7, 0.5 or 1e-3")
"""A query number in decimal notation (no ``1_0``, no spaces)."""

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
    Query(min_length=1, max_length=VERSION_MAX_LENGTH, description="Only this model version."),
]
