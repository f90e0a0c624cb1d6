"""Login, tokens and the access rules: anonymous, forged/expired, inactive, user, admin."""

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete

from app.core.emails import email_key
from app.core.security import hash_password
from app.db.models import User
from tests.conftest import Account, bearer, login

API = "/api/v1"

# (method, path, body): routes that need a logged-in, active user.
Route = tuple[str, str, Any]

USER_ROUTES: list[Route] = [
    ("post", f"{API}/login/test-token", None),
    ("get", f"{API}/users/me", None),
    ("put", f"{API}/users/me", {}),
    ("post", f"{API}/predict/", None),
    ("post", f"{API}/predict/batch", [{"designation": "x"}]),
    ("post", f"{API}/feedback/", {"product_id": 1, "real_category_id": 10, "pred_category_id": 10}),
]
# Routes for administrators only.
ADMIN_ROUTES: list[Route] = [
    ("get", f"{API}/users/", None),
    ("post", f"{API}/users/", {"email": "new-user@example.com", "password": "long-password"}),
    ("put", f"{API}/users/1", {"full_name": "Admin"}),
    ("get", f"{API}/feedback/", None),
    ("get", f"{API}/feedback/stats", None),
    ("get", f"{API}/predictions/", None),
    ("get", f"{API}/predictions/1", None),
]
PUBLIC_ROUTES = [
    ("get", f"{API}/"),
    ("get", f"{API}/categories/"),
    ("get", f"{API}/health/live"),
    ("get", f"{API}/health/ready"),
    ("get", f"{API}/models/current"),
]


def call(
    client: TestClient,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> Any:
    return client.request(method, path, json=body, headers=headers or {})


def test_login_gives_a_working_token(client, admin):
    response = login(client, admin.email, admin.password)
    assert response.status_code == 200
    token = response.json()
    assert token["token_type"] == "bearer"
    me = client.post(
        f"{API}/login/test-token", headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json()["email"] == admin.email
    assert "hashed_password" not in me.json()


@pytest.mark.parametrize(
    ("username", "password"),
    [("admin@example.com", "wrong-password"), ("nobody@example.com", "admin-password")],
)
def test_login_refuses_wrong_credentials(client, username, password):
    response = login(client, username, password)
    assert response.status_code == 401
    assert response.json() == {"detail": "Incorrect email or password"}


def test_login_refuses_inactive_user(client, inactive_user):
    response = login(client, inactive_user.email, inactive_user.password)
    assert response.status_code == 403
    assert response.json() == {"detail": "Inactive user"}


def test_login_without_form_is_422(client):
    assert client.post(f"{API}/login/access-token").status_code == 422


@pytest.mark.parametrize(("method", "path", "body"), USER_ROUTES + ADMIN_ROUTES)
def test_anonymous_is_refused(client, method, path, body):
    response = call(client, method, path, body)
    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}


@pytest.mark.parametrize(("method", "path", "body"), USER_ROUTES + ADMIN_ROUTES)
def test_forged_token_is_refused(client, app_settings, user, method, path, body):  # noqa: PLR0917
    forged = app_settings.model_copy(update={"SECRET_KEY": "another-secret-" + "x" * 32})
    response = call(client, method, path, body, bearer(user.id, forged))
    assert response.status_code == 401
    assert response.json() == {"detail": "Could not validate credentials"}


@pytest.mark.parametrize(("method", "path", "body"), USER_ROUTES + ADMIN_ROUTES)
def test_expired_token_is_refused(client, app_settings, user, method, path, body):  # noqa: PLR0917
    response = call(client, method, path, body, bearer(user.id, app_settings, minutes=-1))
    assert response.status_code == 401
    assert response.json() == {"detail": "Could not validate credentials"}


def test_malformed_token_is_refused(client):
    response = client.get(f"{API}/users/me", headers={"Authorization": "Bearer not.a.token"})
    assert response.status_code == 401


@pytest.mark.parametrize("user_id", [10**9, 2**31 - 1])
def test_token_of_a_user_who_never_existed_is_refused(client, app_settings, user_id):
    response = client.get(f"{API}/users/me", headers=bearer(user_id, app_settings))
    assert response.status_code == 401
    assert response.json() == {"detail": "Could not validate credentials"}


@pytest.mark.parametrize(("method", "path", "body"), USER_ROUTES + ADMIN_ROUTES)
def test_token_of_a_deleted_user_is_refused_like_a_forged_one(
    client, deleted_user, method, path, body
):
    response = call(client, method, path, body, deleted_user.headers)
    assert response.status_code == 401
    assert response.json() == {"detail": "Could not validate credentials"}
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.fixture
def reused_id(session_factory, deleted_user) -> Iterator[tuple[Account, str]]:
    """A deleted user (with its old token) whose id a newer administrator got, and the newer
    user's e-mail (SQLite gives the highest id again once its row is deleted)."""
    time.sleep(1.1)  # tokens tell their issue time in whole seconds
    email = f"newer-{uuid.uuid4().hex[:10]}@example.com"
    with session_factory() as session:
        newer = User(
            id=deleted_user.id,
            email=email,
            email_key=email_key(email),
            hashed_password=hash_password("long-password"),
            is_admin=True,
        )
        session.add(newer)
        session.commit()
    yield deleted_user, email
    with session_factory() as session:  # deleted again, as the session's deleted_user is
        session.execute(delete(User).where(User.id == deleted_user.id))
        session.commit()


@pytest.mark.parametrize(("method", "path", "body"), USER_ROUTES + ADMIN_ROUTES)
def test_token_of_a_deleted_user_is_refused_when_its_id_is_given_again(
    client, reused_id, method, path, body
):
    deleted, _ = reused_id
    response = call(client, method, path, body, deleted.headers)
    assert response.status_code == 401
    assert response.json() == {"detail": "Could not validate credentials"}


def test_the_newer_user_of_a_reused_id_is_served(client, app_settings, reused_id):
    deleted, email = reused_id
    response = client.get(f"{API}/users/me", headers=bearer(deleted.id, app_settings))
    assert response.status_code == 200
    assert response.json()["email"] == email


@pytest.mark.parametrize(("method", "path", "body"), USER_ROUTES + ADMIN_ROUTES)
def test_inactive_user_is_refused(client, inactive_user, method, path, body):
    response = call(client, method, path, body, inactive_user.headers)
    assert response.status_code == 403
    assert response.json() == {"detail": "Inactive user"}


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
def test_user_is_refused_on_admin_routes(client, user, method, path, body):
    response = call(client, method, path, body, user.headers)
    assert response.status_code == 403
    assert response.json() == {"detail": "The user doesn't have enough privileges"}


@pytest.mark.parametrize(("method", "path", "body"), USER_ROUTES)
def test_user_passes_user_routes(client, user, method, path, body):
    if path.endswith("/feedback/"):
        body = {**body, "product_id": uuid.uuid4().int % 10**9}
    response = call(client, method, path, body, user.headers)
    # /predict/ without any input is the caller's fault, not an access refusal.
    expected = 400 if path.endswith("/predict/") else None
    assert response.status_code == expected or response.status_code in (200, 201)


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
def test_admin_passes_admin_routes(client, admin, method, path, body):
    if method == "post" and path.endswith("/users/"):
        body = {**body, "email": f"{uuid.uuid4().hex[:8]}@example.com"}
    response = call(client, method, path, body, admin.headers)
    if path.endswith("/predictions/1"):
        assert response.status_code in (200, 404)
    else:
        assert response.status_code == 200, response.text


@pytest.mark.parametrize(("method", "path"), PUBLIC_ROUTES)
def test_public_routes_need_no_login(client, method, path):
    assert call(client, method, path).status_code == 200
