"""Columns of the scored catalogue: one definition for pandas, Parquet and Spark.

Each output row holds ``productid``, the ``top_k`` most probable categories with their
probabilities (``category_1``, ``probability_1``, ... in percent, highest first), the
``model_name`` and ``model_version`` that scored it, ``scored_at`` (UTC) and ``error``: empty
for a scored row, the reason for a row that could not be scored (its categories are then empty).
"""

from typing import Final

import pyarrow as pa

MIN_TOP_K: Final = 1
MAX_TOP_K: Final = 27
"""The model ranks the 27 categories: more cannot be asked."""

PRODUCT_ID: Final = "productid"
MODEL_NAME: Final = "model_name"
MODEL_VERSION: Final = "model_version"
SCORED_AT: Final = "scored_at"
ERROR: Final = "error"

# Columns of the rows handed to the model (after reading any input format).
DESIGNATION: Final = "designation"
DESCRIPTION: Final = "description"
IMAGE: Final = "image"
"""Path or URI of the product image, ``""`` when the product has none."""
MODEL_ROW_COLUMNS: Final = (PRODUCT_ID, DESIGNATION, DESCRIPTION, IMAGE, ERROR)


def category_column(rank: int) -> str:
    """Name of the category code at ``rank`` (1 = most probable)."""
    return f"category_{rank}"


def probability_column(rank: int) -> str:
    """Name of the probability, in percent, of the category at ``rank``."""
    return f"probability_{rank}"


def output_schema(top_k: int) -> pa.Schema:
    """Return the Arrow schema of the output for ``top_k`` categories per row."""
    ranked = []
    for rank in range(1, top_k + 1):
        ranked += [
            pa.field(category_column(rank), pa.int64()),
            pa.field(probability_column(rank), pa.float64()),
        ]
    return pa.schema(
        [
            pa.field(PRODUCT_ID, pa.string()),
            *ranked,
            pa.field(MODEL_NAME, pa.string()),
            pa.field(MODEL_VERSION, pa.string()),
            pa.field(SCORED_AT, pa.timestamp("us", tz="UTC")),
            pa.field(ERROR, pa.string()),
        ]
    )


_SPARK_TYPES: Final = {
    pa.string(): "string",
    pa.int64(): "bigint",
    pa.float64(): "double",
    pa.timestamp("us", tz="UTC"): "timestamp",
}


def spark_ddl(top_k: int) -> str:
    """Return the same schema as :func:`output_schema` as a Spark DDL string."""
    return ", ".join(f"{field.name} {_SPARK_TYPES[field.type]}" for field in output_schema(top_k))
