"""Text at the boundary (issue kinds 1, 2 and 13), on SQLite and PostgreSQL alike.

NUL characters, invalid UTF-8 and lone UTF-16 surrogates are refused with a 422 naming the
field, wherever the text comes from (query, path, JSON, url-encoded or multipart form); valid
Unicode, including characters outside the BMP, is stored exactly as sent; and no 422 ever
echoes what the caller sent.
"""

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.db.models import Prediction, User
from tests.helpers.images import image_bytes

API = "/api/v1"


def refused_at(response: Any, loc: list[Any], error_type: str) -> None:
    """The answer is a 422 whose single error is at ``loc``, of ``error_type``."""
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert error["loc"] == loc
    assert error["type"] == error_type
    assert set(error) == {"loc", "msg", "type"}


def post_json(client: TestClient, path: str, raw: bytes, headers: dict[str, str]) -> Any:
    """POST a JSON text exactly as written (escapes included)."""
    return client.post(
        f"{API}{path}", content=raw, headers={**headers, "Content-Type": "application/json"}
    )


def multipart(*parts: bytes, boundary: bytes = b"XyZ") -> tuple[bytes, dict[str, str]]:
    """A multipart/form-data body made of raw parts, closed properly."""
    body = b"".join(b"--" + boundary + b"\r\n" + part + b"\r\n" for part in parts)
    body += b"--" + boundary + b"--\r\n"
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary.decode()}"}


def log_in_with(client: TestClient, username: bytes) -> Any:
    """POST the login form exactly as encoded."""
    return client.post(
        f"{API}/login/access-token",
        content=b"username=" + username + b"&password=whatever-password",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


def field(name: bytes, value: bytes) -> bytes:
    return b'Content-Disposition: form-data; name="' + name + b'"\r\n\r\n' + value


# --- kind 1: NUL -------------------------------------------------------------------------


def test_nul_in_the_login_form_is_422_even_without_login(client):
    # The example: username=a%00@example.com gave a 500 on PostgreSQL.
    refused_at(log_in_with(client, b"a%00@example.com"), ["body", "username"], "nul_character")


def test_nul_in_a_query_filter_is_422(client, admin):
    response = client.get(f"{API}/feedback/?model_version=1%00", headers=admin.headers)
    refused_at(response, ["query", "model_version"], "nul_character")
    response = client.get(f"{API}/predictions/?model_version=%00", headers=admin.headers)
    refused_at(response, ["query", "model_version"], "nul_character")


def test_nul_in_predict_texts_is_422_single_and_batch(client, user):
    response = client.post(f"{API}/predict/?designation=Livre%00", headers=user.headers)
    refused_at(response, ["query", "designation"], "nul_character")
    response = post_json(client, "/predict/batch", b'[{"designation": "a\\u0000b"}]', user.headers)
    refused_at(response, ["body", 0, "designation"], "nul_character")
    response = post_json(client, "/predict/", b'{"description": "x\\u0000"}', user.headers)
    refused_at(response, ["body", "description"], "nul_character")


def test_nul_in_json_bodies_of_users_and_feedback_is_422(client, user):
    response = client.put(f"{API}/users/me", json={"full_name": "a\x00b"}, headers=user.headers)
    refused_at(response, ["body", "full_name"], "nul_character")
    raw = b'{"product_id": 1, "model_version": "1\\u0000", "real_category_id": 10, '
    raw += b'"pred_category_id": 10}'
    refused_at(
        post_json(client, "/feedback/", raw, user.headers),
        ["body", "model_version"],
        "nul_character",
    )


def test_nul_in_multipart_fields_and_file_names_is_422(client, user):
    body, headers = multipart(field(b"designation", b"Cahier\x00A4"))
    response = client.post(f"{API}/predict/", content=body, headers={**user.headers, **headers})
    refused_at(response, ["body", "designation"], "nul_character")
    part = b'Content-Disposition: form-data; name="image"; filename="a\x00.jpg"\r\n'
    body, headers = multipart(part + b"Content-Type: image/jpeg\r\n\r\n" + image_bytes())
    response = client.post(f"{API}/predict/", content=body, headers={**user.headers, **headers})
    refused_at(response, ["body", "image"], "nul_character")
    # A JPEG in a part without a file name is read as text: the answer says how to send it.
    body, headers = multipart(field(b"image", image_bytes()))
    response = client.post(f"{API}/predict/", content=body, headers={**user.headers, **headers})
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "image"]
    assert 'A file goes in a file part, with filename="..."' in error["msg"]


def test_nul_in_a_path_parameter_or_a_json_key_is_422(client, admin):
    refused_at(client.get(f"{API}/users/1%00", headers=admin.headers), ["path"], "nul_character")
    response = post_json(client, "/predict/batch", b'[{"a\\u0000": 1}]', admin.headers)
    refused_at(response, ["body", 0], "nul_character")


# --- kind 2: invalid Unicode -----------------------------------------------------------------


def test_lone_surrogate_in_a_batch_is_422(client, user):
    # The example: a 500 on both databases, and FastAPI's 422 handler crashed too.
    raw = b'[{"designation": "Peluche \\ud83d lapin"}]'
    refused_at(
        post_json(client, "/predict/batch", raw, user.headers),
        ["body", 0, "designation"],
        "invalid_unicode",
    )


@pytest.mark.parametrize(
    "escaped",
    [
        pytest.param(b"\\udc00", id="lone-low"),
        pytest.param(b"\\ud83d\\u0041", id="high-then-letter"),
        pytest.param(b"\\ud83d", id="high-at-the-end"),
        pytest.param(b"\\ud83d\\ud83d", id="two-highs"),
    ],
)
def test_every_lone_surrogate_is_422(client, user, escaped):
    raw = b'{"full_name": "x' + escaped + b'"}'
    response = client.put(
        f"{API}/users/me", content=raw, headers={**user.headers, "Content-Type": "application/json"}
    )
    refused_at(response, ["body", "full_name"], "invalid_unicode")


def test_invalid_utf8_percent_escapes_are_422(client, user):
    # The example: an encoded surrogate (ED A0 80) is not UTF-8.
    response = client.post(f"{API}/predict/?designation=Cahier%ED%A0%80", headers=user.headers)
    refused_at(response, ["query", "designation"], "invalid_unicode")
    refused_at(log_in_with(client, b"a%FF@example.com"), ["body", "username"], "invalid_unicode")


def test_invalid_utf8_bytes_in_bodies_are_422(client, user):
    body, headers = multipart(field(b"designation", b"Cahier \xe9colier"))  # Latin-1 "é"
    response = client.post(f"{API}/predict/", content=body, headers={**user.headers, **headers})
    refused_at(response, ["body", "designation"], "invalid_unicode")
    # An encoded surrogate is found where it is; bytes that are no text at all, in the body.
    surrogate = b'[{"designation": "\xed\xa0\x80"}]'
    response = post_json(client, "/predict/batch", surrogate, user.headers)
    refused_at(response, ["body", 0, "designation"], "invalid_unicode")
    response = post_json(client, "/predict/batch", b'[{"designation": "\xff"}]', user.headers)
    refused_at(response, ["body"], "invalid_unicode")


def test_valid_unicode_is_stored_exactly(client, user, db):
    # Characters outside the BMP, as an escaped pair and as UTF-8; and an escaped backslash
    # before "u0000", which is text, not NUL.
    raw = '[{"designation": "Peluche \\ud83d\\udc30 lapin", "description": "🐰 \\\\u0000"}]'
    response = post_json(client, "/predict/batch", raw.encode(), user.headers)
    assert response.status_code == 200, response.text
    row = db.get(Prediction, response.json()[0]["prediction_id"])
    assert (row.designation, row.description) == ("Peluche 🐰 lapin", "🐰 \\u0000")


# --- kind 13: errors never echo what was sent -----------------------------------------------


def assert_no_echo(response: Any, sent: bytes, marker: bytes) -> None:
    assert response.status_code == 422, response.text
    assert marker in sent
    assert marker not in response.content
    assert len(response.content) < 2000
    for error in response.json()["detail"]:
        assert set(error) == {"loc", "msg", "type"}


def test_a_file_named_only_with_filename_star_is_not_echoed(client, user):
    # The example: a 692 KB answer to a 252 KB upload.
    marker = b"FILE-CONTENT-MARKER"
    part = b"Content-Disposition: form-data; name=\"image\"; filename*=UTF-8''photo.jpg\r\n"
    part += b"Content-Type: image/jpeg\r\n\r\n" + image_bytes() + marker * 10_000
    body, headers = multipart(part)
    response = client.post(f"{API}/predict/", content=body, headers={**user.headers, **headers})
    assert_no_echo(response, body, marker)
    assert response.json()["detail"][0]["type"] == "filename_star_only"


def test_a_body_of_the_wrong_type_is_not_echoed(client, user):
    marker = b"BODY-MARKER"
    sent = json.dumps([{"designation": (marker * 5000).decode()}]).encode() + b" trailing"
    response = client.post(
        f"{API}/predict/batch",
        content=sent,
        headers={**user.headers, "Content-Type": "text/plain"},
    )
    assert response.status_code == 415, response.text
    assert marker not in response.content
    assert len(response.content) < 2000


def test_a_long_invalid_value_is_not_echoed(client, user):
    marker = "VALUE-MARKER"
    body = {"product_id": marker * 10_000, "real_category_id": 10, "pred_category_id": 10}
    response = client.post(f"{API}/feedback/", json=body, headers=user.headers)
    assert_no_echo(response, json.dumps(body).encode(), marker.encode())
    email = {"email": marker * 100 + "@@example.com", "password": "long-password"}
    response = client.put(f"{API}/users/me", json=email, headers=user.headers)
    assert_no_echo(response, json.dumps(email).encode(), marker.encode())


def test_a_text_field_sent_as_a_file_part_is_refused_without_echo(client, user):
    marker = b"TEXT-FILE-MARKER"
    part = b'Content-Disposition: form-data; name="designation"; filename="t.txt"\r\n\r\n'
    body, headers = multipart(part + marker * 1000)
    response = client.post(f"{API}/predict/", content=body, headers={**user.headers, **headers})
    assert_no_echo(response, body, marker)


def test_the_boundary_applies_to_accounts_too(client, admin, db):
    """Nothing refused reached the database: no user with a NUL e-mail was created."""
    response = client.post(
        f"{API}/users/",
        content=b'{"email": "nul\\u0000@example.com", "password": "long-password"}',
        headers={**admin.headers, "Content-Type": "application/json"},
    )
    refused_at(response, ["body", "email"], "nul_character")
    assert db.query(User).filter(User.email.like("nul%")).count() == 0


# --- a field sent twice: one of its values would be lost ---------------------------------------


def test_a_json_key_sent_twice_is_422_and_nothing_is_stored(client, user, db):
    before = db.query(Prediction).count()
    for path, raw in [
        ("/predict/", b'{"designation": "Livre", "designation": "Lampe"}'),
        ("/predict/batch", b'[{"designation": "Livre"}, {"designation": "a", "designation": "b"}]'),
        ("/predict/batch", b'{"products": [], "products": [{"designation": "Livre"}]}'),
    ]:
        response = post_json(client, path, raw, user.headers)
        refused_at(response, ["body"], "repeated_field")
        assert "'designation'" in response.text or "'products'" in response.text
    assert db.query(Prediction).count() == before
    raw = b'{"full_name": "Ann", "full_name": "Bob"}'
    response = client.put(
        f"{API}/users/me", content=raw, headers={**user.headers, "Content-Type": "application/json"}
    )
    refused_at(response, ["body"], "repeated_field")


def test_the_same_key_in_different_objects_is_not_a_repeat(client, user):
    raw = b'[{"designation": "Livre de cuisine"}, {"designation": "Lampe de chevet"}]'
    assert post_json(client, "/predict/batch", raw, user.headers).status_code == 200


def test_a_query_parameter_or_a_form_field_sent_twice_is_422(client, user, admin):
    response = client.post(
        f"{API}/predict/?designation=Livre&designation=Lampe", headers=user.headers
    )
    refused_at(response, ["query", "designation"], "repeated_field")
    response = client.get(f"{API}/predictions/?limit=5&limit=500", headers=admin.headers)
    refused_at(response, ["query", "limit"], "repeated_field")
    response = log_in_with(client, b"a@example.com&username=b@example.com")
    refused_at(response, ["body", "username"], "repeated_field")


def test_a_multipart_part_sent_twice_is_422(client, user, db):
    before = db.query(Prediction).count()
    body, headers = multipart(field(b"designation", b"Livre"), field(b"designation", b"Lampe"))
    response = client.post(f"{API}/predict/", content=body, headers={**user.headers, **headers})
    refused_at(response, ["body", "designation"], "repeated_field")
    image = b'Content-Disposition: form-data; name="image"; filename="p.jpg"\r\n'
    image += b"Content-Type: image/jpeg\r\n\r\n" + image_bytes()
    body, headers = multipart(field(b"designation", b"Livre"), image, image)
    response = client.post(f"{API}/predict/", content=body, headers={**user.headers, **headers})
    refused_at(response, ["body", "image"], "repeated_field")
    assert db.query(Prediction).count() == before


# --- JSON bodies are UTF-8 (RFC 8259) -------------------------------------------------------

JSON_ROUTES = {
    "single": ("POST", "/predict/", {"designation": "Cahier A4"}),
    "batch": ("POST", "/predict/batch", [{"designation": "Cahier A4"}]),
    "feedback": (
        "POST",
        "/feedback/",
        {"product_id": 1, "real_category_id": 2522, "pred_category_id": 2522},
    ),
    "update me": ("PUT", "/users/me", {"full_name": "Nom"}),
}


def send_json(
    client: TestClient, route: str, raw: bytes, content_type: str, headers: dict[str, str]
) -> Any:
    """Send ``raw`` to one of :data:`JSON_ROUTES` under ``content_type``."""
    method, path, _ = JSON_ROUTES[route]
    return client.request(
        method, f"{API}{path}", content=raw, headers={**headers, "Content-Type": content_type}
    )


def published(client: TestClient, route: str, status: int) -> bool:
    """Whether the OpenAPI document lists ``status`` for the route's operation."""
    method, path, _ = JSON_ROUTES[route]
    operation = client.get("/openapi.json").json()["paths"][f"{API}{path}"][method.lower()]
    return str(status) in operation["responses"]


@pytest.mark.parametrize(
    ("charset", "encoding"),
    [
        ("utf-16", "utf-16"),
        ('"UTF-16LE"', "utf-16-le"),
        ("utf-32", "utf-32"),
        ("latin-1", "latin-1"),
    ],
)
@pytest.mark.parametrize("route", list(JSON_ROUTES))
def test_a_json_body_declared_in_another_charset_is_415(
    client, admin, db, *, route, charset, encoding
):
    before = db.query(Prediction).count()
    raw = json.dumps(JSON_ROUTES[route][2]).encode(encoding)
    response = send_json(client, route, raw, f"application/json; charset={charset}", admin.headers)
    assert response.status_code == 415, response.text
    shown = charset.strip('"')
    assert response.json() == {
        "detail": "JSON bodies must be UTF-8 (RFC 8259, section 8.1): this request's "
        f"Content-Type declares the charset {shown!r}. Send the body encoded in UTF-8, with "
        "charset=utf-8 or no charset."
    }
    assert published(client, route, 415)
    assert db.query(Prediction).count() == before


@pytest.mark.parametrize(("charset", "expected"), [("iso-8859-1", 415), ("UTF-8", 200)])
def test_a_form_is_read_as_utf8_and_another_charset_is_415(client, admin, charset, expected):
    body = f"username={admin.email}&password={admin.password}".encode()
    headers = {"Content-Type": f"application/x-www-form-urlencoded; charset={charset}"}
    response = client.post("/api/v1/login/access-token", content=body, headers=headers)
    assert response.status_code == expected, response.text
    if expected == 415:
        assert response.json()["detail"].startswith(
            f"A form's values are read as UTF-8: this request's Content-Type declares the "
            f"charset {charset!r}."
        )


@pytest.mark.parametrize("charset", ["utf-8", "UTF8", '"utf-8"', "us-ascii"])
def test_utf8_spelt_any_way_is_read(client, user, charset):
    response = send_json(
        client,
        "update me",
        b'{"full_name": "Nom"}',
        f"application/json; charset={charset}",
        user.headers,
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("encoding", "said"),
    [
        ("utf-16", "UTF-16 (little-endian, with a byte-order mark)"),
        ("utf-16-le", "UTF-16 (little-endian, without a byte-order mark)"),
        ("utf-16-be", "UTF-16 (big-endian, without a byte-order mark)"),
        ("utf-32", "UTF-32 (little-endian, with a byte-order mark)"),
        ("utf-32-le", "UTF-32 (little-endian, without a byte-order mark)"),
        ("utf-32-be", "UTF-32 (big-endian, without a byte-order mark)"),
    ],
)
@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8"])
@pytest.mark.parametrize("route", list(JSON_ROUTES))
def test_a_utf16_or_utf32_json_body_is_422_saying_json_is_utf8(
    client, admin, db, *, route, content_type, encoding, said
):
    before = db.query(Prediction).count()
    raw = json.dumps(JSON_ROUTES[route][2]).encode(encoding)
    response = send_json(client, route, raw, content_type, admin.headers)
    refused_at(response, ["body"], "json_not_utf8")
    assert response.json()["detail"][0]["msg"] == (
        f"The JSON body is {said} text: JSON bodies must be UTF-8 (RFC 8259, section 8.1). "
        "Send it encoded in UTF-8."
    )
    assert published(client, route, 422)
    assert db.query(Prediction).count() == before


def test_a_nul_in_utf8_json_is_still_called_a_nul(client, user):
    response = post_json(client, "/predict/batch", b'[{"designation": "a\x00b"}]', user.headers)
    refused_at(response, ["body"], "nul_character")
    assert "NUL character" in response.json()["detail"][0]["msg"]
