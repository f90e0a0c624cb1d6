"""Users: administrators manage accounts, users read and change themselves."""

import uuid

import pytest

from app.db.crud.users import authenticate, get_user_by_email
from tests.conftest import login

API = "/api/v1"


def new_email() -> str:
    return f"{uuid.uuid4().hex[:12]}@example.com"


def test_admin_creates_lists_reads_and_updates_a_user(client, admin, db):
    email = new_email()
    created = client.post(
        f"{API}/users/", headers=admin.headers, json={"email": email, "password": "password-1"}
    )
    assert created.status_code == 200
    body = created.json()
    assert body["email"] == email
    assert body["is_active"] is True
    assert body["is_admin"] is False
    assert "password" not in body
    assert "hashed_password" not in body

    listed = client.get(f"{API}/users/", headers=admin.headers, params={"limit": 1000})
    assert email in [u["email"] for u in listed.json()]

    read = client.get(f"{API}/users/{body['id']}", headers=admin.headers)
    assert read.json() == body

    updated = client.put(
        f"{API}/users/{body['id']}",
        headers=admin.headers,
        json={"full_name": "Jeanne Vendeuse", "is_admin": True, "password": "password-2"},
    )
    assert updated.status_code == 200
    assert updated.json()["full_name"] == "Jeanne Vendeuse"
    assert updated.json()["is_admin"] is True
    assert authenticate(db, email, "password-2") is not None
    assert authenticate(db, email, "password-1") is None


def test_duplicate_email_is_refused(client, admin, user):
    response = client.post(
        f"{API}/users/",
        headers=admin.headers,
        json={"email": user.email, "password": "password-1"},
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": "The user with this username already exists in the system."
    }


def test_update_to_a_taken_email_is_refused(client, admin, user, session_factory, app_settings):
    from tests.conftest import make_account

    account = make_account(session_factory, app_settings)
    response = client.put(
        f"{API}/users/{account.id}", headers=admin.headers, json={"email": user.email}
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": "The user with this username already exists in the system."
    }


@pytest.mark.parametrize("change", [{"email": "new"}, {"password": "new-password-1"}])
def test_administrators_change_their_own_credentials_only_with_their_password(
    client, session_factory, app_settings, change
):
    from tests.conftest import make_account

    account = make_account(session_factory, app_settings, is_admin=True)
    change = {name: new_email() if value == "new" else value for name, value in change.items()}
    response = client.put(f"{API}/users/{account.id}", headers=account.headers, json=change)
    assert response.status_code == 400
    assert "PUT /users/me" in response.json()["detail"]
    assert login(client, account.email, account.password).status_code == 200
    # Another user's, as an administrator resets a password: no password of theirs needed.
    other = make_account(session_factory, app_settings)
    response = client.put(f"{API}/users/{other.id}", headers=account.headers, json=change)
    assert response.status_code == 200, response.text


def test_unknown_user_is_404(client, admin):
    assert client.get(f"{API}/users/999999", headers=admin.headers).status_code == 404
    response = client.put(f"{API}/users/999999", headers=admin.headers, json={"full_name": "x"})
    assert response.status_code == 404
    assert response.json() == {"detail": "The user with this username does not exist in the system"}


def test_invalid_user_payloads_are_422(client, admin):
    for payload in (
        {"email": "not-an-email", "password": "password-1"},
        {"email": new_email(), "password": "short"},
        {"password": "password-1"},
        # Over the 64 bytes before the @ the published idn-email format allows.
        {"email": "a" * 65 + "@example.com", "password": "password-1"},
        {"email": "é" * 33 + "@example.com", "password": "password-1"},
    ):
        response = client.post(f"{API}/users/", headers=admin.headers, json=payload)
        assert response.status_code == 422, payload
    longest = f"{uuid.uuid4().hex}{'a' * 32}@example.com"  # 64 bytes: accepted
    response = client.post(
        f"{API}/users/", headers=admin.headers, json={"email": longest, "password": "password-1"}
    )
    assert response.status_code == 200, response.text
    response = client.put(
        f"{API}/users/me", headers=admin.headers, json={"email": "b" * 65 + "@example.com"}
    )
    assert response.status_code == 422


def test_user_reads_self_but_not_others(client, user, admin):
    me = client.get(f"{API}/users/me", headers=user.headers)
    assert me.status_code == 200
    assert me.json()["email"] == user.email
    assert me.json()["is_admin"] is False
    assert client.get(f"{API}/users/{user.id}", headers=user.headers).status_code == 200
    other = client.get(f"{API}/users/{admin.id}", headers=user.headers)
    assert other.status_code == 403


def test_user_updates_self_but_cannot_become_admin(client, session_factory, app_settings):
    from tests.conftest import make_account

    account = make_account(session_factory, app_settings)
    response = client.put(
        f"{API}/users/me",
        headers=account.headers,
        json={"full_name": "Nouveau Nom", "is_admin": True},
    )
    # Said, not silently ignored; and nothing of the request is applied.
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "extra_forbidden"
    assert response.json()["detail"][0]["loc"] == ["body", "is_admin"]
    me = client.get(f"{API}/users/me", headers=account.headers).json()
    assert (me["full_name"], me["is_admin"]) == (None, False)
    response = client.put(
        f"{API}/users/me", headers=account.headers, json={"full_name": "Nouveau Nom"}
    )
    assert response.status_code == 200
    assert response.json()["full_name"] == "Nouveau Nom"
    new = new_email()
    response = client.put(
        f"{API}/users/me",
        headers=account.headers,
        json={"email": new, "current_password": account.password},
    )
    assert response.json()["email"] == new


@pytest.mark.parametrize("change", [{"email": "new"}, {"password": "new-password-1"}])
def test_changing_own_credentials_needs_the_current_password(
    client, session_factory, app_settings, change
):
    from tests.conftest import make_account

    account = make_account(session_factory, app_settings)
    change = {name: new_email() if value == "new" else value for name, value in change.items()}
    url, headers = f"{API}/users/me", account.headers
    before = client.get(url, headers=headers).json()
    missing = client.put(url, headers=headers, json=change)
    assert missing.status_code == 422, missing.text
    (error,) = missing.json()["detail"]
    assert (error["loc"], error["type"]) == (["body", "current_password"], "missing")
    wrong = client.put(url, headers=headers, json={**change, "current_password": "not-it-1"})
    assert wrong.status_code == 400
    assert wrong.json() == {"detail": "Incorrect current password"}
    assert client.get(url, headers=headers).json() == before
    assert login(client, account.email, account.password).status_code == 200
    right = client.put(url, headers=headers, json={**change, "current_password": account.password})
    assert right.status_code == 200, right.text
    email = change.get("email", account.email)
    password = change.get("password", account.password)
    assert login(client, email, password).status_code == 200
    assert login(client, account.email, account.password).status_code == 401


def test_a_wrong_current_password_refuses_even_a_name_change(client, session_factory, app_settings):
    from tests.conftest import make_account

    account = make_account(session_factory, app_settings)
    body = {"full_name": "Jeanne", "current_password": "not-it-1"}
    response = client.put(f"{API}/users/me", headers=account.headers, json=body)
    assert response.status_code == 400
    assert client.get(f"{API}/users/me", headers=account.headers).json()["full_name"] is None
    body["current_password"] = account.password
    response = client.put(f"{API}/users/me", headers=account.headers, json=body)
    assert response.json()["full_name"] == "Jeanne"


def test_admin_deactivates_a_user_who_is_then_refused(client, admin, session_factory, app_settings):
    from tests.conftest import make_account

    account = make_account(session_factory, app_settings)
    assert client.get(f"{API}/users/me", headers=account.headers).status_code == 200
    response = client.put(
        f"{API}/users/{account.id}", headers=admin.headers, json={"is_active": False}
    )
    assert response.json()["is_active"] is False
    assert client.get(f"{API}/users/me", headers=account.headers).status_code == 403


def test_open_registration_is_off_by_default(client):
    response = client.post(
        f"{API}/users/open", json={"email": new_email(), "password": "password-1"}
    )
    assert response.status_code == 403


def test_open_registration_when_allowed(database_url, db):
    from fastapi.testclient import TestClient

    from app.main import create_app
    from tests.conftest import make_settings

    settings = make_settings(database_url, MODEL_NAME="absent-model", USERS_OPEN_REGISTRATION=True)
    email = new_email()
    with TestClient(create_app(settings)) as open_client:
        response = open_client.post(
            f"{API}/users/open", json={"email": email, "password": "password-1"}
        )
        assert response.status_code == 200
        again = open_client.post(
            f"{API}/users/open", json={"email": email, "password": "password-1"}
        )
        assert again.status_code == 400
    user = get_user_by_email(db, email)
    assert user is not None
    assert not user.is_admin


@pytest.mark.parametrize(
    "case",
    [
        ("admin", {"is_superuser": True}, "is_superuser", "extra_forbidden"),
        ("admin", {"hashed_password": "x"}, "hashed_password", "extra_forbidden"),
        ("admin", {"is_active": "no"}, "is_active", "bool_type"),
        ("admin", {"is_admin": 1}, "is_admin", "bool_type"),
        ("admin", {"email": None}, "email", "string_type"),
        ("admin", {"password": None}, "password", "string_type"),
        ("admin", {"is_active": None}, "is_active", "bool_type"),
        ("me", {"is_active": False}, "is_active", "extra_forbidden"),
        ("me", {"email": None}, "email", "string_type"),
        ("create", {"is_admin": "true"}, "is_admin", "bool_type"),
        ("create", {"role": "admin"}, "role", "extra_forbidden"),
    ],
)
def test_user_changes_are_read_strictly(client, admin, session_factory, app_settings, case):
    from tests.conftest import make_account

    route, payload, field, error_type = case
    account = make_account(session_factory, app_settings)
    before = client.get(f"{API}/users/{account.id}", headers=admin.headers).json()
    if route == "admin":
        response = client.put(f"{API}/users/{account.id}", headers=admin.headers, json=payload)
    elif route == "me":
        response = client.put(f"{API}/users/me", headers=account.headers, json=payload)
    else:
        body = {"email": new_email(), "password": "password-1", **payload}
        response = client.post(f"{API}/users/", headers=admin.headers, json=body)
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert (error["loc"], error["type"]) == (["body", field], error_type)
    assert client.get(f"{API}/users/{account.id}", headers=admin.headers).json() == before


@pytest.mark.parametrize("route", ["admin", "me"])
def test_a_null_full_name_clears_it(client, admin, session_factory, app_settings, route):
    from tests.conftest import make_account

    account = make_account(session_factory, app_settings)
    url = f"{API}/users/{account.id}" if route == "admin" else f"{API}/users/me"
    headers = admin.headers if route == "admin" else account.headers
    named = client.put(url, headers=headers, json={"full_name": "Jeanne"})
    assert named.json()["full_name"] == "Jeanne"
    cleared = client.put(url, headers=headers, json={"full_name": None})
    assert cleared.status_code == 200
    assert cleared.json()["full_name"] is None
    assert client.get(f"{API}/users/me", headers=account.headers).json()["full_name"] is None


@pytest.mark.parametrize("route", ["admin", "me"])
def test_an_unchanged_email_sent_back_needs_no_password(
    client, session_factory, app_settings, route
):
    from tests.conftest import make_account

    account = make_account(session_factory, app_settings, is_admin=True)
    url = f"{API}/users/{account.id}" if route == "admin" else f"{API}/users/me"
    body = {"email": account.email, "full_name": "Jeanne"}
    response = client.put(url, headers=account.headers, json=body)
    assert response.status_code == 200, response.text
    assert response.json()["full_name"] == "Jeanne"
    # Another case is another e-mail: a change.
    body["email"] = account.email.upper()
    assert client.put(url, headers=account.headers, json=body).status_code in (400, 422)
