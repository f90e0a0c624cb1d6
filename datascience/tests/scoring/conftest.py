"""Fixtures of the catalogue scoring tests."""

import os
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="module")
def spark() -> Iterator[object]:
    """One local Spark session for the module (two cores, no UI, few shuffle partitions)."""
    from product_classifier.scoring.spark_engine import (
        SparkOptions,
        SparkUnavailableError,
        build_session,
    )

    options = SparkOptions(
        master="local[2]",
        conf={"spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "2"},
    )
    try:
        session = build_session(options, batch_size=64)
    except SparkUnavailableError as error:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{error} (CI=true: Spark is required)")
        pytest.skip(str(error))
    yield session
    session.stop()
