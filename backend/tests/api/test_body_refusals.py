"""Refusals of a body (too large, unparsable) are answered on every route with a body, as published.

They come from the body-size middleware and FastAPI's parsing, outside the routes; the OpenAPI
document announces them (:mod:`app.api.body_refusals`) so that every answer validates.
"""

import pytest

API = "/api/v1"
BODY_ROUTES = [
    ("POST", "/login/access-token"),
    ("POST", "/users/"),
    ("PUT", "/users/me"),
    ("POST", "/feedback/"),
    ("POST", "/predict/"),
]


def _documented(client, method: str, path: str) -> set[str]:
    operation = client.get("/openapi.json").json()["paths"][f"{API}{path}"][method.lower()]
    return set(operation["responses"])


def test_every_operation_with_a_body_publishes_400_and_413(client):
    paths = client.get("/openapi.json").json()["paths"]
    operations = [
        operation
        for item in paths.values()
        for operation in item.values()
        if operation.get("requestBody")
    ]
    assert len(operations) >= 8
    assert all({"400", "413"} <= set(operation["responses"]) for operation in operations)


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
def test_a_body_over_the_limit_is_a_published_413(client, admin, app_settings, method, path):
    body = b"{" + b" " * app_settings.max_predict_body_bytes + b"}"
    headers = {**admin.headers, "Content-Type": "application/json"}
    response = client.request(method, f"{API}{path}", content=body, headers=headers)
    assert response.status_code == 413, response.text
    assert "too large" in response.json()["detail"]
    assert "413" in _documented(client, method, path)


DEEP_JSON = b"[" * 100_000 + b"]" * 100_000
LONG_BOUNDARY = b"B" * 300
LONG_BOUNDARY_FORM = (
    b"--" + LONG_BOUNDARY + b'\r\nContent-Disposition: form-data; name="designation"\r\n\r\n'
    b"stylo\r\n--" + LONG_BOUNDARY + b"--\r\n"
)
UNPARSABLE_BODIES = {
    "predict, 5000-digit number": (
        "POST /predict/",
        "application/json",
        b'{"designation": "a", "x": ' + b"9" * 5000 + b"}",
    ),
    "predict, JSON nested too deeply": ("POST /predict/", "application/json", DEEP_JSON),
    "batch, JSON nested too deeply": ("POST /predict/batch", "application/json", DEEP_JSON),
    "feedback, JSON nested too deeply": ("POST /feedback/", "application/json", DEEP_JSON),
    "predict, boundary over 256 bytes": (
        "POST /predict/",
        f"multipart/form-data; boundary={LONG_BOUNDARY.decode()}",
        LONG_BOUNDARY_FORM,
    ),
    "login, boundary over 256 bytes": (
        "POST /login/access-token",
        f"multipart/form-data; boundary={LONG_BOUNDARY.decode()}",
        LONG_BOUNDARY_FORM,
    ),
    "feedback, 5000-digit number": (
        "POST /feedback/",
        "application/json",
        b'{"product_id": ' + b"9" * 5000 + b"}",
    ),
    "account, 5000-digit number": (
        "PUT /users/me",
        "application/json",
        b'{"full_name": ' + b"1" * 5000 + b"}",
    ),
    "login, multipart cut short": (
        "POST /login/access-token",
        "multipart/form-data; boundary=x",
        b'--x\r\nContent-Disposition: form-data; name="username"\r\n\r\nadmin',
    ),
}


@pytest.mark.parametrize("case", list(UNPARSABLE_BODIES))
def test_a_body_that_cannot_be_parsed_is_a_published_400(client, admin, case):
    route, content_type, body = UNPARSABLE_BODIES[case]
    method, path = route.split()
    headers = {**admin.headers, "Content-Type": content_type}
    response = client.request(method, f"{API}{path}", content=body, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["detail"]
    assert "400" in _documented(client, method, path)


def test_refused_text_is_a_published_422_on_every_operation(client):
    response = client.get(f"{API}/categories/?x=%FF")
    assert response.status_code == 422, response.text
    paths = client.get("/openapi.json").json()["paths"]
    assert all("422" in op["responses"] for item in paths.values() for op in item.values())


def test_a_batch_product_id_is_published_as_the_json_integer_it_may_be(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    (published, _null) = schemas["BatchProduct"]["properties"]["product_id"]["anyOf"]
    kinds = {variant["type"]: variant for variant in published["anyOf"]}
    assert kinds["integer"] == {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}
    assert kinds["string"]["pattern"] == "^[0-9]{1,19}$"
