"""Query strings are read as published: unknown parameters and loosely written numbers are 422s.

FastAPI would ignore a misspelt parameter (``?model_verison=3`` answered the unfiltered list)
and pydantic reads ``1.0``, ``1_0``, `` 1 ``, ``+1`` or ``1e1`` as the number 1 or 10; neither is
what the caller wrote, so both are refused, on every route, single and batch predictions
included. A ``model_version`` filter is written as MLflow writes versions (``1``, not ``01``,
which MLflow reads as 1 but which matches no stored row), as the feedback's body takes it.
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
        ("/feedback/?limit=%2B5", "limit"),  # "+5" ("+" alone is a space in a query string)
        ("/users/?skip=%2B0", "skip"),
        ("/monitoring/quality?days=%2B5", "days"),
        ("/monitoring/quality?days=1e3", "days"),
        ("/monitoring/quality?days=1e-1", "days"),
        ("/monitoring/quality?days=%2Binf", "days"),
        ("/monitoring/challenger?days=5E0", "days"),
        ("/monitoring/quality/timeline?slices=%2B3", "slices"),
        ("/monitoring/drift?min_predictions=1e1", "min_predictions"),
        ("/monitoring/report?limit=%2B1", "limit"),
    ],
)
def test_a_number_not_written_as_digits_is_422(client, admin, path, name):
    response = client.get(f"{API}{path}", headers=admin.headers)
    refused(response, name, "value_error")
    assert response.json()["detail"][0]["msg"].startswith("Value error, Input should be a number")


@pytest.mark.parametrize("path", ["/predict/?designation=Livre&limit=", "/predict/batch?limit="])
@pytest.mark.parametrize("written", ["%2B3", "3e0", "3.0"])
def test_a_prediction_limit_not_written_as_digits_is_422(client, user, path, written):
    kwargs: dict[str, Any] = {"headers": user.headers}
    if path.startswith("/predict/batch"):
        kwargs["json"] = [{"designation": "Livre"}]
    refused(client.post(f"{API}{path}{written}", **kwargs), "limit", "value_error")


def test_numbers_written_plainly_are_read(client, admin, user):
    for path in (
        "/predictions/?limit=5&skip=0",
        "/monitoring/quality?days=0.5",
        "/monitoring/quality?days=30",
        "/monitoring/quality/timeline?slices=3&days=3",
    ):
        response = client.get(f"{API}{path}", headers=admin.headers)
        assert response.status_code == 200, (path, response.text)
    response = client.post(f"{API}/predict/?designation=Livre&limit=2", headers=user.headers)
    assert response.status_code == 200
    assert len(response.json()) == 2
    response = client.post(f"{API}/predict/?designation=Livre&limit=2.0", headers=user.headers)
    refused(response, "limit", "value_error")


@pytest.mark.parametrize("written", ["01", "%201", "1%20", "%2B1", "1.0", "1e0", "v1", "0", "-1"])
@pytest.mark.parametrize(
    "path",
    [
        "/predictions/",
        "/feedback/",
        "/monitoring/quality",
        "/monitoring/errors",
        "/monitoring/drift",
        "/monitoring/report",
    ],
)
def test_a_version_filter_is_written_as_mlflow_writes_versions(client, admin, user, path, written):
    response = client.get(f"{API}{path}?model_version={written}", headers=admin.headers)
    refused(response, "model_version", "string_pattern_mismatch")
    # The same rule, in the same words, as the feedback's model_version.
    body = {"product_id": 1, "model_version": "01", "real_category_id": 10, "pred_category_id": 10}
    sent = client.post(f"{API}/feedback/", json=body, headers=user.headers)
    assert sent.status_code == 422, sent.text
    assert sent.json()["detail"][0]["msg"] == response.json()["detail"][0]["msg"]
    assert client.get(f"{API}{path}?model_version=1", headers=admin.headers).status_code == 200
