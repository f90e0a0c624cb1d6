"""The access log keeps its lines short: a long query is cut, with its length."""

import logging

import pytest
from fastapi.testclient import TestClient

from app.core.logging import ACCESS_LOGGER, MAX_LOGGED_PATH, ShortPathFilter, shorten


def access_record(path: str) -> logging.LogRecord:
    """A record as uvicorn's access logger makes it."""
    return logging.LogRecord(
        ACCESS_LOGGER,
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "POST", path, "1.1", 422),
        None,
    )


def test_short_paths_are_logged_whole():
    assert shorten("/api/v1/predict/?limit=3") == "/api/v1/predict/?limit=3"


@pytest.mark.parametrize("length", [MAX_LOGGED_PATH + 1, 30_000])
def test_long_paths_are_cut_and_say_how_long_they_were(length):
    path = "/api/v1/predict/?designation=" + "x" * (length - 29)
    record = access_record(path)
    assert ShortPathFilter().filter(record)
    message = record.getMessage()
    assert len(message) < MAX_LOGGED_PATH + 100
    assert f"... ({length} characters)" in message
    assert message.endswith('HTTP/1.1" 422')


def test_records_of_another_shape_pass_untouched():
    record = logging.LogRecord(ACCESS_LOGGER, logging.INFO, __file__, 1, "%s", ("x" * 500,), None)
    assert ShortPathFilter().filter(record)
    assert record.getMessage() == "x" * 500


def test_the_application_installs_the_filter_once(client: TestClient):
    filters = [
        f for f in logging.getLogger(ACCESS_LOGGER).filters if isinstance(f, ShortPathFilter)
    ]
    assert len(filters) == 1
