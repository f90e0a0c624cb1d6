"""The model servers of all processes check the registry on the same wall-clock ticks."""

import pytest

from app.inference.model_server import seconds_to_next_check


@pytest.mark.parametrize(
    ("now", "interval", "expected"),
    [
        (1_000.0, 10.0, 10.0),  # on a tick: wait a whole interval
        (1_003.5, 10.0, 6.5),
        (1_009.99, 10.0, 0.01),
        (7.25, 0.5, 0.25),
    ],
)
def test_the_next_check_is_the_next_multiple_of_the_interval(
    now: float, interval: float, expected: float
) -> None:
    assert seconds_to_next_check(now, interval) == pytest.approx(expected)


def test_workers_started_apart_check_together() -> None:
    # Two workers whose last checks ended 3.2 s apart, within one 10 s interval.
    first, second = 1_700_000_001.3, 1_700_000_004.5
    assert first + seconds_to_next_check(first, 10.0) == pytest.approx(
        second + seconds_to_next_check(second, 10.0)
    )
