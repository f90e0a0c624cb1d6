"""A JSON body sent as another media type is a 415 that says so, on every JSON route; so is
a login not sent as a form.

FastAPI parses a body as JSON only under a JSON ``Content-Type``; before, any other body was
a 422 "Input should be a valid dictionary" (or list) that did not say what was wrong.
"""

import json
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from app.db.models import Feedback, Prediction, User

API = "/api/v1"
NOT_JSON_TYPES = [None, "text/plain", "application/x-www-form-urlencoded", "application/xml"]


def _email() -> str:
    return f"media-{uuid.uuid4().hex[:10]}@example.com"


def _bodies() -> dict[str, tuple[str, str, object, type]]:
    """Route name: (method, path, a valid JSON body, the table it would write)."""
    return {
        "batch": ("POST", "/predict/batch", [{"designation": "Cahier A4"}], Prediction),
        "feedback": (
            "POST",
            "/feedback/",
            {"product_id": 1, "real_category_id": 2522, "pred_category_id": 2522},
            Feedback,
        ),
        "create user": ("POST", "/users/", {"email": _email(), "password": "password-1"}, User),
        "update me": ("PUT", "/users/me", {"full_name": "Nom"}, User),
    }


def _count(db, table: type) -> int:
    db.expire_all()
    return int(db.scalar(select(func.count()).select_from(table)))


@pytest.mark.parametrize("content_type", NOT_JSON_TYPES)
@pytest.mark.parametrize("route", list(_bodies()))
def test_a_json_body_under_another_media_type_is_a_415_and_writes_nothing(
    client, admin, db, route, content_type
):
    method, path, body, table = _bodies()[route]
    headers = dict(admin.headers)
    if content_type is not None:
        headers["Content-Type"] = content_type
    before = _count(db, table)
    response = client.request(method, f"{API}{path}", content=json.dumps(body), headers=headers)
    assert response.status_code == 415, response.text
    detail = response.json()["detail"]
    assert "Content-Type: application/json" in detail
    assert (repr(content_type) if content_type else "missing") in detail
    assert _count(db, table) == before


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/x+json"])
def test_json_media_types_are_still_read_as_json(client, admin, content_type):
    headers = {**admin.headers, "Content-Type": content_type}
    response = client.put(f"{API}/users/me", content='{"full_name": "Nom"}', headers=headers)
    assert response.status_code == 200, response.text


def test_the_415_is_published_on_every_json_or_form_body_and_only_there(client):
    paths = client.get("/openapi.json").json()["paths"]
    with_json_or_form_body = {
        (method, path)
        for path, item in paths.items()
        for method, operation in item.items()
        if operation.get("requestBody", {}).get("content", {}).keys()
        & {"application/json", "application/x-www-form-urlencoded"}
    }
    with_415 = {
        (method, path)
        for path, item in paths.items()
        for method, operation in item.items()
        if "415" in operation["responses"]
    }
    assert {("post", "/api/v1/predict/batch"), ("post", "/api/v1/login/access-token")} <= (
        with_json_or_form_body
    )
    assert with_415 == with_json_or_form_body


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/json", "application/xml"]
)
def test_a_login_not_sent_as_a_form_is_a_415_that_says_to_send_one(client, admin, content_type):
    headers = {} if content_type is None else {"Content-Type": content_type}
    body = json.dumps({"username": admin.email, "password": admin.password})
    response = client.post(f"{API}/login/access-token", content=body, headers=headers)
    assert response.status_code == 415, response.text
    detail = response.json()["detail"]
    assert "Content-Type: application/x-www-form-urlencoded" in detail
    assert (repr(content_type) if content_type else "missing") in detail


def test_a_chunked_login_without_content_type_is_a_415(client, admin):
    def chunks() -> Iterator[bytes]:
        yield f"username={admin.email}&password={admin.password}".encode()

    response = client.post(f"{API}/login/access-token", content=chunks())
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert response.status_code == 415, response.text


@pytest.mark.parametrize("headers", [{}, {"Content-Length": "0"}])
def test_a_login_without_a_body_is_a_422_naming_the_fields(client, headers):
    response = client.post(f"{API}/login/access-token", headers=headers)
    assert response.status_code == 422, response.text
    assert {tuple(error["loc"]) for error in response.json()["detail"]} == {
        ("body", "username"),
        ("body", "password"),
    }


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_a_login_sent_as_a_form_is_read(client, admin, encoding):
    form = {"username": admin.email, "password": admin.password}
    if encoding == "urlencoded":
        response = client.post(f"{API}/login/access-token", data=form)
    else:
        files = {name: (None, value) for name, value in form.items()}
        response = client.post(f"{API}/login/access-token", files=files)
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "bearer"


@pytest.mark.parametrize("content_type", [None, "text/plain"])
def test_predict_refuses_a_body_it_cannot_read_as_json_or_form(client, user, db, content_type):
    headers = dict(user.headers)
    if content_type is not None:
        headers["Content-Type"] = content_type
    before = _count(db, Prediction)
    body = json.dumps({"designation": "Cahier A4"})
    response = client.post(f"{API}/predict/", content=body, headers=headers)
    assert response.status_code == 415, response.text
    assert "application/json" in response.json()["detail"]
    assert _count(db, Prediction) == before
