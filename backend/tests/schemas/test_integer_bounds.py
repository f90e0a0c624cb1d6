"""Integers out of their column's range are refused before any query (issue kind 3).

Every integer the API reads has bounds in its schema (so in the OpenAPI document): a 422 on
both databases, instead of PostgreSQL's "integer out of range" or SQLite's driver overflow.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from app.core.security import ALGORITHM
from app.schemas.bounds import INT32_MAX, INT64_MAX

API = "/api/v1"


def refused(response: Any, loc: list[Any]) -> None:
    assert response.status_code == 422, response.text
    assert [error["loc"] for error in response.json()["detail"]] == [loc]


def test_product_id_past_bigint_is_422(client, user):
    # The example: 2^63 gave a 500.
    body = {"product_id": INT64_MAX + 1, "real_category_id": 10, "pred_category_id": 10}
    refused(
        client.post(f"{API}/feedback/", json=body, headers=user.headers), ["body", "product_id"]
    )


def test_largest_product_id_is_stored(client, user):
    body = {"product_id": INT64_MAX, "real_category_id": 10, "pred_category_id": 10}
    response = client.post(f"{API}/feedback/", json=body, headers=user.headers)
    assert response.status_code == 201, response.text
    assert response.json()["product_id"] == INT64_MAX


def test_prediction_id_past_integer_is_422(client, user):
    body = {
        "product_id": 1,
        "real_category_id": 10,
        "pred_category_id": 10,
        "prediction_id": INT32_MAX + 1,
    }
    refused(
        client.post(f"{API}/feedback/", json=body, headers=user.headers), ["body", "prediction_id"]
    )


# A path id that is not a whole number (-1) is no path of the API: test_method_not_allowed.py.
@pytest.mark.parametrize("value", [INT32_MAX + 1, 10**20, 0])
@pytest.mark.parametrize(
    ("path", "name"), [("/predictions/{}", "prediction_id"), ("/users/{}", "user_id")]
)
def test_path_ids_out_of_range_are_422(client, admin, path, name, value):
    refused(client.get(API + path.format(value), headers=admin.headers), ["path", name])


@pytest.mark.parametrize("route", ["/users/", "/feedback/", "/predictions/"])
def test_paging_out_of_range_is_422(client, admin, route):
    response = client.get(f"{API}{route}", params={"skip": 10**20}, headers=admin.headers)
    refused(response, ["query", "skip"])
    response = client.get(f"{API}{route}", params={"skip": INT32_MAX}, headers=admin.headers)
    assert response.status_code == 200
    assert response.json() == []


def token_for(subject: str, secret: str) -> dict[str, str]:
    now = datetime.now(UTC)
    claims = {"exp": now + timedelta(minutes=5), "iat": now, "sub": subject}
    token = jwt.encode(claims, secret, algorithm=ALGORITHM)
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    "subject",
    [
        pytest.param("9" * 20, id="20-digit"),  # the example: a 500 on SQLite
        pytest.param(str(INT32_MAX + 1), id="past-integer"),
        pytest.param("0", id="zero"),
        pytest.param("-1", id="negative"),
        pytest.param("007", id="leading-zeros"),
        pytest.param("٣", id="arabic-digit"),
        pytest.param("1e3", id="exponent"),
    ],
)
def test_token_subject_that_is_not_a_user_id_is_401(client, app_settings, subject):
    response = client.get(f"{API}/users/me", headers=token_for(subject, app_settings.SECRET_KEY))
    assert response.status_code == 401
    assert response.json() == {"detail": "Could not validate credentials"}


def _integer_schemas(spec: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every integer the API reads: parameters and request body properties, by name."""
    components = spec["components"]["schemas"]
    found = []

    def visit(name: str, schema: dict[str, Any]) -> None:
        if "$ref" in schema:
            visit(name, components[schema["$ref"].rsplit("/", 1)[-1]])
            return
        for option in schema.get("anyOf", []):
            visit(name, option)
        if schema.get("type") == "integer":
            found.append((name, schema))
        for key, item in schema.get("properties", {}).items():
            visit(f"{name}.{key}", item)
        if "items" in schema:
            visit(f"{name}[]", schema["items"])

    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                visit(f"{method} {path} {parameter['name']}", parameter["schema"])
            for content in operation.get("requestBody", {}).get("content", {}).values():
                visit(f"{method} {path} body", content["schema"])
    return found


def test_every_integer_the_api_reads_is_bounded_in_the_openapi_document(client):
    integers = _integer_schemas(client.get("/openapi.json").json())
    assert len(integers) >= 15
    unbounded = [
        name
        for name, schema in integers
        if "enum" not in schema and ("minimum" not in schema or "maximum" not in schema)
    ]
    assert unbounded == []
    too_wide = [name for name, schema in integers if schema.get("maximum", 0) > INT64_MAX]
    assert too_wide == []
