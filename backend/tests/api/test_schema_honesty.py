"""Answers match the OpenAPI document the API publishes (issue kind 12), on both databases.

Timestamps carry their UTC offset on SQLite as on PostgreSQL (an RFC 3339 ``date-time``), and
e-mails are published as ``idn-email``, since non-ASCII addresses are accepted. The schema
fuzzing (``test_schema_fuzz.py``) checks every operation; these are the issue's examples.
"""

import uuid
from datetime import datetime, timedelta

import schemathesis
from schemathesis import checks

from app.db.models import Feedback, Prediction, User

API = "/api/v1"
RFC3339_OFFSETS = ("Z", "+00:00")


def test_stored_prediction_timestamps_have_an_offset(client, user, admin):
    # The example: "2026-11-30T00:38:02.121304" on SQLite.
    response = client.post(
        f"{API}/predict/", params={"designation": "Agenda"}, headers=user.headers
    )
    prediction_id = response.headers["X-Prediction-Id"]
    stored = client.get(f"{API}/predictions/{prediction_id}", headers=admin.headers).json()
    assert stored["created_at"].endswith(RFC3339_OFFSETS)
    assert datetime.fromisoformat(stored["created_at"]).utcoffset() == timedelta(0)
    listed = client.get(f"{API}/predictions/", params={"limit": 5}, headers=admin.headers)
    assert all(row["created_at"].endswith(RFC3339_OFFSETS) for row in listed.json())


def test_every_timestamp_column_reads_back_aware(client, user, session_factory):
    response = client.post(f"{API}/predict/", params={"designation": "Gomme"}, headers=user.headers)
    with session_factory() as session:
        feedback = Feedback(
            product_id=uuid.uuid4().int % 10**12,
            model_version="1",
            real_category_id=10,
            pred_category_id=10,
        )
        session.add(feedback)
        session.commit()
    with session_factory() as session:  # read back by a new session, from the database
        rows = [
            session.get(User, user.id),
            session.get(Prediction, int(response.headers["X-Prediction-Id"])),
            session.get(Feedback, feedback.id),
        ]
        for row in rows:
            assert row is not None
            assert row.created_at.utcoffset() == timedelta(0), type(row).__name__


def test_emails_are_published_as_idn_email_and_non_ascii_ones_validate(client, admin):
    spec = client.get("/openapi.json").json()
    user_schema = spec["components"]["schemas"]["User"]
    assert user_schema["properties"]["email"]["format"] == "idn-email"
    email = f"Élodie.{uuid.uuid4().hex[:6]}@exemple.fr"
    created = client.post(
        f"{API}/users/", json={"email": email, "password": "password-1"}, headers=admin.headers
    )
    assert created.status_code == 200
    assert created.json()["email"] == email


def test_answers_validate_against_the_published_document(client, admin):
    """The users and predictions listings, checked by schemathesis against /openapi.json."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    for path in ("/users/", "/predictions/", "/feedback/"):
        operation = schema[f"{API}{path}"]["GET"]
        case = operation.Case(query={"limit": 50})
        response = client.get(f"{API}{path}", params={"limit": 50}, headers=admin.headers)
        assert response.status_code == 200
        case.validate_response(
            response, checks=[checks.not_a_server_error, checks.response_schema_conformance]
        )


def test_the_batch_size_bounds_are_published_from_the_setting(client):
    settings = client.app.state.settings
    operation = client.get("/openapi.json").json()["paths"][f"{API}/predict/batch"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert (schema["minItems"], schema["maxItems"]) == (1, settings.MAX_BATCH_SIZE)
