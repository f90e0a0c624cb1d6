"""Every refusal of a token, a user or a missing row is a status the OpenAPI document lists.

For each operation that needs a bearer token, the request is sent without a token, with a
forged one, as a deleted user, as an inactive user and as a user who is not an administrator;
whatever the API answers must be one of the statuses the document publishes for that operation
(with a body matching its schema). Rows that do not exist (id 2^31 - 1) are asked for as an
administrator. The schema fuzzing (``test_schema_fuzz.py``) checks the same for generated input.
"""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Account

MISSING_ID = 2**31 - 1


def operations(client: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path with ids filled in, operation) of every operation needing a token."""
    document = client.get("/openapi.json").json()
    found = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            if operation.get("security"):
                filled = path.replace("{user_id}", str(MISSING_ID))
                filled = filled.replace("{prediction_id}", str(MISSING_ID))
                filled = filled.replace("{feedback_id}", str(MISSING_ID))
                found.append((method, filled, operation))
    return found


def check_documented(client: TestClient, headers: dict[str, str]) -> list[str]:
    """Send every token-protected operation with ``headers``; list the undocumented answers."""
    undocumented = []
    for method, path, operation in operations(client):
        response = client.request(method, path, headers=headers)
        if str(response.status_code) not in operation["responses"]:
            undocumented.append(f"{method.upper()} {path}: {response.status_code}")
        elif response.status_code >= 400:
            assert isinstance(response.json()["detail"], str | list), path
    return undocumented


def test_there_are_protected_operations_to_check(client):
    assert len(operations(client)) >= 20


@pytest.mark.parametrize(
    "who", ["nobody", "forged", "deleted_user", "inactive_user", "user", "admin"]
)
def test_every_refusal_is_a_documented_status(client, request, who):
    if who == "nobody":
        headers: dict[str, str] = {}
    elif who == "forged":
        headers = {"Authorization": "Bearer not.a.token"}
    else:
        account: Account = request.getfixturevalue(who)
        headers = account.headers
    assert check_documented(client, headers) == []


def test_closed_registration_is_documented(client):
    operation = client.get("/openapi.json").json()["paths"]["/api/v1/users/open"]["post"]
    response = client.post(
        "/api/v1/users/open", json={"email": "closed@example.com", "password": "password-1"}
    )
    assert response.status_code == 403
    assert "403" in operation["responses"]
