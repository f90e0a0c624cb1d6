"""Bounds of the numbers and strings the API accepts, matching the columns that store them.

An integer outside its column's range makes the database fail (PostgreSQL: "integer out of
range"; SQLite: the driver cannot convert it), so every integer the API reads is bounded in its
schema, where the OpenAPI document shows it and FastAPI answers a 422 before any query runs.
"""

from typing import Annotated, Final

from pydantic import Field

INT32_MAX: Final = 2**31 - 1
"""Largest value of an ``Integer`` column (PostgreSQL ``integer``): row ids, category codes."""
INT64_MAX: Final = 2**63 - 1
"""Largest value of a ``BigInteger`` column (PostgreSQL ``bigint``): product ids."""
VERSION_MAX_LENGTH: Final = 64
"""Longest model version (``String(64)`` columns)."""

RowId = Annotated[int, Field(ge=1, le=INT32_MAX, description="A row id (1 to 2^31 - 1).")]
"""The id of a stored row (``Integer`` primary key)."""
ProductId = Annotated[
    int, Field(ge=0, le=INT64_MAX, description="The marketplace's product id (0 to 2^63 - 1).")
]
"""A product id as the feedback stores it (``BigInteger``)."""
