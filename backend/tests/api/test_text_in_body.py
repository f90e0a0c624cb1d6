"""Long texts: in the query up to the documented limit, or in the body; every limit in JSON.

Issue kind 11. ``POST /predict/`` takes ``designation`` and ``description`` in the query (the
original clients), in a JSON body, or as form fields beside the image; a text over
``MAX_TEXT_LENGTH`` is a 422 that names the limit, and what the HTTP server itself refuses
(``python -m app.serve``) is JSON too.
"""

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from app.core.config import Settings
from app.db.models import Prediction
from product_classifier.paths import REPOSITORY_ROOT
from tests.conftest import bearer, make_settings
from tests.helpers.images import image_bytes
from tests.helpers.predictions import assert_answer_stored

API = "/api/v1"
LONG_ACCENTED = "é" * 11_000  # the example: ~66 KB percent-encoded, under 20,000 chars


def stored(db, response: Any) -> Any:
    assert response.status_code == 200, response.text
    db.expire_all()
    row = db.get(Prediction, int(response.headers["X-Prediction-Id"]))
    assert row is not None
    return row


def test_texts_in_a_json_body(client, user, db):
    body = {"designation": "Cahier grand format", "description": LONG_ACCENTED}
    response = client.post(f"{API}/predict/", json=body, params={"limit": 3}, headers=user.headers)
    row = stored(db, response)
    assert (row.designation, row.description) == (body["designation"], body["description"])
    assert len(response.json()) == 3


def test_texts_as_form_fields_beside_the_image(client, user, db):
    jpeg = image_bytes("RGB", (120, 90))
    response = client.post(
        f"{API}/predict/",
        data={"designation": "Peluche lapin", "description": LONG_ACCENTED},
        files={"image": ("lapin.jpg", jpeg, "image/jpeg")},
        headers=user.headers,
    )
    assert_answer_stored(
        db, response, user.id, designation="Peluche lapin", description=LONG_ACCENTED, image=jpeg
    )


def test_texts_in_a_url_encoded_form(client, user, db):
    response = client.post(
        f"{API}/predict/", data={"designation": "Stylo plume"}, headers=user.headers
    )
    assert stored(db, response).designation == "Stylo plume"


def test_a_text_in_the_query_and_in_the_body_is_422(client, user):
    response = client.post(
        f"{API}/predict/",
        params={"designation": "A"},
        json={"designation": "B"},
        headers=user.headers,
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "designation"]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"designation": 3}, id="number"),
        pytest.param({"designation": "x", "colour": "red"}, id="unknown-field"),
        pytest.param(["designation"], id="not-an-object"),
    ],
)
def test_a_json_body_of_another_shape_is_422(client, user, body):
    response = client.post(f"{API}/predict/", json=body, headers=user.headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "body"


def test_a_body_of_another_type_is_415(client, user):
    response = client.post(
        f"{API}/predict/",
        content=b"designation: x",
        headers={**user.headers, "Content-Type": "text/plain"},
    )
    assert response.status_code == 415
    assert "JSON" in response.json()["detail"]


def test_an_image_sent_as_a_text_field_is_422(client, user):
    response = client.post(
        f"{API}/predict/", data={"designation": "x", "image": "not a file"}, headers=user.headers
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "image"]


def test_texts_over_the_limit_name_it_wherever_they_are(client, user, app_settings):
    too_long = "x" * (app_settings.MAX_TEXT_LENGTH + 1)  # ASCII: short enough for httpx
    for request, loc in (
        ({"params": {"description": too_long}}, ["query", "description"]),
        ({"json": {"description": too_long}}, ["body", "description"]),
        ({"data": {"description": too_long}}, ["body", "description"]),
        ({"json": [{"designation": "x"}, {"description": too_long}]}, ["body", 1, "description"]),
    ):
        path = "/predict/batch" if isinstance(request.get("json"), list) else "/predict/"
        response = client.post(f"{API}{path}", headers=user.headers, **request)
        assert response.status_code == 422
        (error,) = response.json()["detail"]
        assert error["loc"] == loc
        assert f"maximum {app_settings.MAX_TEXT_LENGTH}, MAX_TEXT_LENGTH" in error["msg"]


# --- the real HTTP server (python -m app.serve) serving the text model: what its HTTP protocol
# (app.http_protocol, on uvicorn's httptools) lets through, and what it refuses (clients such as
# httpx refuse URLs this long: raw sockets).


@dataclass(frozen=True)
class LiveServer:
    port: int
    headers: dict[str, str]
    settings: Settings

    def post(self, target: str, extra_headers: str = "") -> tuple[int, dict[str, str], Any]:
        """Send a bodiless POST over a raw socket; return the status, headers and JSON body."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=120) as connection:
            return self.post_on(connection, target, extra_headers)

    def post_on(
        self, connection: socket.socket, target: str, extra_headers: str = ""
    ) -> tuple[int, dict[str, str], Any]:
        """Send a bodiless POST on an open (kept-alive) connection; read its whole answer."""
        request = (
            f"POST {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n"
            f"Authorization: {self.headers['Authorization']}\r\n{extra_headers}\r\n"
        )
        connection.sendall(request.encode())
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
            head, _, body = answer.partition(b"\r\n\r\n")
            length = re.search(rb"content-length: *(\d+)", head, re.IGNORECASE)
            if length and len(body) >= int(length.group(1)):
                break
        head, _, body = answer.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in lines)
        }
        return int(status_line.split(" ")[1]), headers, json.loads(body)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def live_server(database_url, admin, trained_text) -> Iterator[LiveServer]:
    settings = make_settings(database_url, MODEL_NAME="text", MODEL_ALIAS="production")
    port = free_port()
    environment = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "MODEL_NAME": "text",
        "MODEL_ALIAS": "production",
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "app.serve", "--port", str(port), "--log-level", "warning"],
        cwd=REPOSITORY_ROOT / "backend",
        env={**os.environ, **environment},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 600  # loading the model takes minutes on a busy machine
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}{API}/health/ready").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        else:
            pytest.fail("python -m app.serve was not ready within 600 s")
        yield LiveServer(port, bearer(admin.id, settings), settings)
    finally:
        process.terminate()
        process.wait(60)


def test_long_accented_text_in_the_query_is_predicted(live_server, db):
    # The example: uvicorn answered a plain-text 400 before the API saw the request.
    status, headers, body = live_server.post(f"{API}/predict/?designation={quote(LONG_ACCENTED)}")
    assert (status, headers["content-type"]) == (200, "application/json"), body
    db.expire_all()
    row = db.get(Prediction, int(headers["x-prediction-id"]))
    assert row is not None
    assert row.designation == LONG_ACCENTED


def test_a_kept_alive_connection_goes_on_after_a_long_url(live_server):
    # A target over 64 KiB is split by the protocol itself: the next request on the same
    # connection must be read afresh (its own short query, its own limit).
    targets = (
        f"{API}/predict/?designation={quote(LONG_ACCENTED)}&limit=2",
        f"{API}/predict/?designation=Guide%20de%20voyage&limit=1",
        f"{API}/predict/?designation={quote(LONG_ACCENTED)}&limit=3",
    )
    with socket.create_connection(("127.0.0.1", live_server.port), timeout=120) as connection:
        answers = [live_server.post_on(connection, target) for target in targets]
    assert [(status, len(body)) for status, _, body in answers] == [(200, 2), (200, 1), (200, 3)]


def test_the_largest_documented_texts_fit_in_the_query(live_server):
    largest = quote("😀" * live_server.settings.MAX_TEXT_LENGTH)  # 12 bytes each, encoded
    status, _, body = live_server.post(
        f"{API}/predict/?designation={largest}&description={largest}"
    )
    assert status == 200, body


def test_the_api_names_its_text_limit(live_server):
    too_long = quote("é" * (live_server.settings.MAX_TEXT_LENGTH + 1))
    status, headers, body = live_server.post(f"{API}/predict/?designation={too_long}")
    assert (status, headers["content-type"]) == (422, "application/json")
    assert "MAX_TEXT_LENGTH" in body["detail"][0]["msg"]


def test_what_the_http_server_refuses_is_json_naming_its_limit(live_server):
    limit = live_server.settings.max_request_head_bytes
    # The protocol counts the request line and every header as they are parsed.
    over = "x" * (limit + 1)
    status, headers, body = live_server.post(f"{API}/predict/?designation={over}")
    assert (status, headers["content-type"]) == (414, "application/json")
    assert f"more than {limit} bytes" in body["detail"]
    status, headers, body = live_server.post(f"{API}/predict/", f"X-Big: {over}\r\n")
    assert (status, headers["content-type"]) == (431, "application/json")
    assert f"more than {limit} bytes" in body["detail"]
    # Both are published, on every operation (they come before any route).
    document = httpx.get(f"http://127.0.0.1:{live_server.port}/openapi.json", timeout=60).json()
    for path_item in document["paths"].values():
        for operation in path_item.values():
            assert {"414", "431"} <= set(operation["responses"]), operation["operationId"]


def test_a_request_that_is_not_http_gets_a_json_400(live_server):
    with socket.create_connection(("127.0.0.1", live_server.port), timeout=30) as connection:
        connection.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        answer = b""
        while chunk := connection.recv(4096):  # the server closes the connection after it
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400")
    assert b"content-type: application/json" in head.lower()
    assert json.loads(body)["detail"].startswith("Invalid HTTP request")
