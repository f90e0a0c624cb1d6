"""Query strings are read as published: unknown parameters and loosely written numbers are 422s.

FastAPI would ignore a misspelt parameter (``?model_verison=3`` answered the unfiltered list)
and pydantic reads ``1.0``, ``1_0`` or `` 1 `` as the integer 1 or 10; neither is what the
caller wrote, so both are refused, on every route, single and batch predictions included.
"""

from typing import Any

import pytest

API = "/api/v1"


def refused(response: Any, name: str, kind: str) -> None:
    assert response.status_code == 422, response.text
    errors = [e for e in response.json()["detail"] if e["loc"] == ["query", name]]
    assert errors, response.text
    assert errors[0]["type"] == kind


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/predictions/?model_verison=1"),
        ("get", "/feedback/?limt=5"),
        ("get", "/users/?skp=1"),
        ("get", "/monitoring/quality?day=3"),
        ("get", "/models/current?verbose=1"),
        ("get", "/health/ready?verbose=1"),
        ("get", "/categories/?lang=fr"),
        ("post", "/predict/?designation=Livre&limt=3"),
        ("post", "/predict/batch?limt=3"),
    ],
)
def test_a_parameter_the_route_does_not_take_is_422(client, admin, method, path):
    name = path.rpartition("&")[2] if "&" in path else path.partition("?")[2]
    kwargs: dict[str, Any] = {"headers": admin.headers}
    if path.startswith("/predict/batch"):
        kwargs["json"] = [{"designation": "Livre"}]
    response = getattr(client, method)(f"{API}{path}", **kwargs)
    refused(response, name.partition("=")[0], "extra_forbidden")


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/predictions/?limit=1.0", "limit"),
        ("/predictions/?limit=1_0", "limit"),
        ("/predictions/?skip=%201", "skip"),
        ("/feedback/?limit=0x10", "limit"),
        ("/monitoring/quality?days=1_0", "days"),
        ("/monitoring/quality/timeline?slices=2.0", "slices"),
        ("/monitoring/errors?limit=1e1", "limit"),
    ],
)
def test_a_number_not_written_as_digits_is_422(client, admin, path, name):
    refused(client.get(f"{API}{path}", headers=admin.headers), name, "value_error")


def test_numbers_written_plainly_are_read(client, admin, user):
    for path in (
        "/predictions/?limit=5&skip=0",
        "/feedback/?limit=%2B5",  # "+5" ("+" alone is a space in a query string)
        "/monitoring/quality?days=0.5",
        "/monitoring/quality?days=1e-1",
        "/monitoring/quality/timeline?slices=3&days=3",
    ):
        response = client.get(f"{API}{path}", headers=admin.headers)
        assert response.status_code == 200, (path, response.text)
    response = client.post(f"{API}/predict/?designation=Livre&limit=2", headers=user.headers)
    assert response.status_code == 200
    assert len(response.json()) == 2
    response = client.post(f"{API}/predict/?designation=Livre&limit=2.0", headers=user.headers)
    refused(response, "limit", "value_error")
