"""Bounds of the numbers and strings the API accepts, matching the columns that store them.

An integer outside its column's range makes the database fail (PostgreSQL: "integer out of
range"; SQLite: the driver cannot convert it), so every integer the API reads is bounded in its
schema, where the OpenAPI document shows it and FastAPI answers a 422 before any query runs.
"""

from typing import Annotated, Final

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema

INT32_MAX: Final = 2**31 - 1
"""Largest value of an ``Integer`` column (PostgreSQL ``integer``): row ids, category codes."""
INT64_MAX: Final = 2**63 - 1
"""Largest value of a ``BigInteger`` column (PostgreSQL ``bigint``): product ids."""
VERSION_MAX_LENGTH: Final = 64
"""Longest model version (``String(64)`` columns)."""
MODEL_VERSION_PATTERN: Final = r"^[1-9][0-9]{0,9}$"
"""A model version as the API takes it: an MLflow registry version (1, 2, 3...), written as
MLflow answers it, without sign, spaces or leading zeros (MLflow would read ``01`` as 1, while
the stored rows hold ``"1"``)."""

RowId = Annotated[int, Field(ge=1, le=INT32_MAX, description="A row id (1 to 2^31 - 1).")]
"""The id of a stored row (``Integer`` primary key)."""
ProductId = Annotated[
    int, Field(ge=0, le=INT64_MAX, description="The marketplace's product id (0 to 2^63 - 1).")
]
"""A product id as the feedback stores it (``BigInteger``)."""


PRODUCT_ID_PATTERN: Final = r"^[0-9]{1,19}$"
"""A product id in decimal ASCII digits (leading zeros allowed, as ``int()`` reads them)."""


PRODUCT_ID_TEXT_ERROR: Final = (
    "product_id must be the marketplace's integer product id, 0 to 2^63 - 1, in at most 19 "
    "decimal digits (the feedback names the product by the same integer)"
)


def _integer_as_text(value: object) -> str:
    """A JSON integer as its decimal text; text as it is; anything else refused."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return value
    raise ValueError(PRODUCT_ID_TEXT_ERROR)  # true, 1.0, a list...


def _product_id_text(value: str) -> str:
    if not (value.isascii() and value.isdigit()) or len(value) > 19 or int(value) > INT64_MAX:
        raise ValueError(PRODUCT_ID_TEXT_ERROR)
    return value


PRODUCT_ID_TEXT_DESCRIPTION: Final = (
    "The marketplace's product id, 0 to 2^63 - 1, as a JSON integer or a string of decimal "
    "digits; answered and stored as sent. Feedback names the product by the same integer."
)

ProductIdText = Annotated[
    str,
    BeforeValidator(_integer_as_text),
    AfterValidator(_product_id_text),
    # Published as what it takes: a JSON integer or a string of digits.
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 0, "maximum": INT64_MAX},
                {"type": "string", "pattern": PRODUCT_ID_PATTERN},
            ],
            "description": PRODUCT_ID_TEXT_DESCRIPTION,
        },
        mode="validation",
    ),
]
"""A product id sent with a product to predict: the feedback's :data:`ProductId`, as text."""
