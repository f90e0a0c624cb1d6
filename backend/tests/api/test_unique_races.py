"""Concurrent creation of one unique row: one success, the documented 400 for the others.

Issue kind 4. Every unique constraint goes through one mechanism: the request's unit of work
(:mod:`app.api.unit_of_work`) commits in one place and answers a broken constraint with 400.
"""

import re
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlalchemy import UniqueConstraint

from app.api.unit_of_work import UNIQUE_CONFLICTS
from app.db.base import Base
from product_classifier.paths import REPOSITORY_ROOT

API = "/api/v1"
EMAIL_TAKEN = "The user with this username already exists in the system."


def race(count: int, call: Callable[[int], Any]) -> list[Any]:
    """Run ``call(i)`` in ``count`` threads released at the same instant; return the answers."""
    barrier = threading.Barrier(count)
    answers: list[Any] = [None] * count

    def run(index: int) -> None:
        barrier.wait()
        answers[index] = call(index)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return answers


def statuses(answers: list[Any]) -> Counter[int]:
    return Counter(answer.status_code for answer in answers)


def test_twelve_parallel_creations_of_one_user(client, admin):
    # The example: one 200 and eleven 500s.
    email = f"race-{uuid.uuid4().hex[:8]}@example.com"
    body = {"email": email, "password": "long-password"}
    answers = race(12, lambda _: client.post(f"{API}/users/", json=body, headers=admin.headers))
    assert statuses(answers) == {200: 1, 400: 11}
    assert {a.json()["detail"] for a in answers if a.status_code == 400} == {EMAIL_TAKEN}


def test_parallel_creations_differing_only_by_case(client, admin):
    local = f"Race.{uuid.uuid4().hex[:8]}"
    variants = [local.upper(), local.lower(), local, local.swapcase()] * 2

    def create(index: int) -> Any:
        body = {"email": f"{variants[index]}@Example.com", "password": "long-password"}
        return client.post(f"{API}/users/", json=body, headers=admin.headers)

    assert statuses(race(len(variants), create)) == {200: 1, 400: len(variants) - 1}


def test_two_users_taking_one_email_at_once(client, admin):
    email = f"taken-{uuid.uuid4().hex[:8]}@example.com"
    ids = []
    for _ in range(2):
        body = {"email": f"{uuid.uuid4().hex[:8]}@example.com", "password": "long-password"}
        ids.append(client.post(f"{API}/users/", json=body, headers=admin.headers).json()["id"])
    answers = race(
        2,
        lambda index: client.put(
            f"{API}/users/{ids[index]}", json={"email": email}, headers=admin.headers
        ),
    )
    assert statuses(answers) == {200: 1, 400: 1}


def test_parallel_feedback_for_one_prediction(client, user):
    prediction = client.post(
        f"{API}/predict/", params={"designation": "Stylo"}, headers=user.headers
    )
    prediction_id = int(prediction.headers["X-Prediction-Id"])

    def send(index: int) -> Any:
        body = {
            "product_id": uuid.uuid4().int % 10**12 + index,
            "real_category_id": 10,
            "prediction_id": prediction_id,
        }
        return client.post(f"{API}/feedback/", json=body, headers=user.headers)

    answers = race(8, send)
    assert statuses(answers) == {201: 1, 400: 7}
    assert {a.json()["detail"] for a in answers if a.status_code == 400} == {
        "A feedback already exists for this prediction."
    }


def test_every_unique_constraint_has_a_documented_answer():
    """A unique constraint added to the models must get its 400 message here too."""
    names = set()
    for table in Base.metadata.tables.values():
        names |= {str(c.name) for c in table.constraints if isinstance(c, UniqueConstraint)}
        names |= {str(index.name) for index in table.indexes if index.unique}
    # Only the shadow's background worker writes shadow predictions: no request can break it.
    assert names - {"ix_shadow_predictions_prediction_id"} == set(UNIQUE_CONFLICTS)


def test_commits_happen_in_the_unit_of_work_only():
    """Routes and data access only add and flush.

    The prestart seeding and the shadow's background worker are units of work of their own.
    """
    app_dir = REPOSITORY_ROOT / "backend" / "app"
    committing = sorted(
        str(path.relative_to(app_dir))
        for path in app_dir.rglob("*.py")
        if re.search(r"\.commit\b", path.read_text(encoding="utf-8"))
    )
    assert committing == [
        "api/unit_of_work.py",
        "db/init_db.py",
        "db/session.py",
        "inference/shadow.py",
    ]
