"""Accounts: e-mails unique whatever their case, NFC passwords (kind 9); never without an
active administrator (kind 10). On SQLite and PostgreSQL.
"""

import threading
import unicodedata
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.core.security import _password_hash
from app.db.crud.users import (
    check_password,
    count_active_admins,
    create_user,
    get_user_by_email,
)
from app.db.init_db import seed_first_admin
from app.db.models import User
from app.db.session import create_db_engine, create_session_factory
from app.main import create_app
from tests.conftest import bearer, login, make_account, make_settings, migrated_database

API = "/api/v1"
LAST_ADMIN = (
    "This change would leave the API without an active administrator: make another user an "
    "active administrator first."
)
NO_SELF_DEMOTION = (
    "Administrators cannot deactivate themselves or give up their own administrator rights: "
    "ask another administrator."
)


def unique_local() -> str:
    return uuid.uuid4().hex[:10]


def create(client: TestClient, headers: dict[str, str], email: str, password: str) -> Any:
    return client.post(
        f"{API}/users/", json={"email": email, "password": password}, headers=headers
    )


# --- kind 9: e-mail case and password normalisation ------------------------------------------


def test_log_in_with_exactly_the_email_used_at_creation(client, admin):
    # The example: the domain was lower-cased at creation, not at login (401).
    email = f"Marie.Curie.{unique_local()}@Example.COM"
    assert create(client, admin.headers, email, "radium-1898").status_code == 200
    for typed in (email, email.lower(), email.upper()):
        assert login(client, typed, "radium-1898").status_code == 200, typed


def test_an_email_differing_only_by_case_is_taken(client, admin):
    # The example: jean.dupont@... registered beside Jean.Dupont@...
    local = f"jean.dupont.{unique_local()}"
    assert create(client, admin.headers, f"{local}@example.com", "password-1").status_code == 200
    again = create(client, admin.headers, f"{local.title()}@Example.com", "password-1")
    assert again.status_code == 400
    assert again.json() == {"detail": "The user with this username already exists in the system."}


def test_changing_to_a_taken_email_in_another_case_is_refused(client, admin, user):
    account = user.email.upper()
    change = {"email": account, "current_password": admin.password}
    response = client.put(f"{API}/users/me", json=change, headers=admin.headers)
    assert response.status_code == 400


def test_own_email_may_change_case(client, session_factory, app_settings):
    account = make_account(session_factory, app_settings)
    response = client.put(
        f"{API}/users/me",
        json={"email": account.email.upper(), "current_password": account.password},
        headers=account.headers,
    )
    assert response.status_code == 200
    assert login(client, account.email, account.password).status_code == 200


def test_non_ascii_email_round_trips_and_matches_any_case(client, admin):
    email = f"Élodie.{unique_local()}@Exemple.fr"
    response = create(client, admin.headers, email, "password-1")
    assert response.status_code == 200
    assert response.json()["email"] == unicodedata.normalize(
        "NFC", email.replace("Exemple", "exemple")
    )
    assert login(client, email.lower(), "password-1").status_code == 200
    decomposed = unicodedata.normalize("NFD", email)
    assert login(client, decomposed, "password-1").status_code == 200


def test_emails_are_unique_in_the_database_whatever_their_case(session_factory):
    local = unique_local()
    with session_factory() as session:
        create_user(session, email=f"{local}@example.com", password="password-1")
        session.commit()
        session.add(
            User(
                email=f"{local.upper()}@EXAMPLE.COM",
                email_key=f"{local}@example.com",
                hashed_password="x",
            )
        )
        with pytest.raises(IntegrityError):
            session.flush()


def test_a_password_typed_decomposed_logs_in(client, admin):
    # The example: an NFD-typed "é" must log in.
    email = f"nfd-{unique_local()}@example.com"
    composed = unicodedata.normalize("NFC", "café-crème")
    assert create(client, admin.headers, email, composed).status_code == 200
    assert login(client, email, unicodedata.normalize("NFD", composed)).status_code == 200
    assert login(client, email, composed).status_code == 200
    assert login(client, email, "cafe-creme").status_code == 401


@pytest.mark.parametrize("through", ["login", "e-mail change", "password change"])
def test_a_hash_made_before_normalisation_still_works_and_is_upgraded(
    client, session_factory, app_settings, through
):
    email = f"legacy-{unique_local()}@example.com"
    decomposed = unicodedata.normalize("NFD", "mot-de-passe-été")
    with session_factory() as session:
        user = create_user(session, email=email, password="placeholder")
        user.hashed_password = _password_hash.hash(decomposed)  # as the API used to store it
        session.commit()
        old_hash, user_id = user.hashed_password, user.id
    composed = unicodedata.normalize("NFC", decomposed)
    if through == "login":
        assert login(client, email, composed).status_code == 200
    else:
        if through == "e-mail change":
            email = f"legacy-moved-{unique_local()}@example.com"
            change = {"email": email, "current_password": composed}
        else:  # a new password replaces the old hash
            change = {"password": "nouveau-mot-de-passe", "current_password": composed}
            decomposed = composed = "nouveau-mot-de-passe"
        headers = bearer(user_id, app_settings)
        response = client.put(f"{API}/users/me", json=change, headers=headers)
        assert response.status_code == 200, response.text
    with session_factory() as session:
        stored = get_user_by_email(session, email)
        assert stored is not None
        assert stored.hashed_password != old_hash
        assert _password_hash.verify(composed, stored.hashed_password)
    assert login(client, email, decomposed).status_code == 200


def test_a_check_that_must_not_upgrade_leaves_an_older_hash(session_factory):
    decomposed = unicodedata.normalize("NFD", "mot-de-passe-été")
    with session_factory() as session:
        user = create_user(
            session, email=f"keep-{unique_local()}@example.com", password="placeholder"
        )
        user.hashed_password = older = _password_hash.hash(decomposed)
        composed = unicodedata.normalize("NFC", decomposed)
        assert check_password(session, user, composed, upgrade=False)
        assert user.hashed_password == older
        assert check_password(session, user, composed)
        assert user.hashed_password != older
        assert not check_password(session, user, "mot-de-passe-ete")
        assert not check_password(session, None, composed)


FOUR_LETTERS_DECOMPOSED = unicodedata.normalize("NFD", "éèêë")
"""8 code points typed, 4 characters once normalised (as the password is hashed)."""


@pytest.mark.parametrize("route", ["create", "update other", "update me"])
def test_a_new_password_is_counted_in_characters_once_normalised(
    client, session_factory, app_settings, admin, route
):
    account = make_account(session_factory, app_settings)
    too_short = FOUR_LETTERS_DECOMPOSED
    long_enough = unicodedata.normalize("NFD", "é") * 128  # 256 code points, 128 characters
    for password, expected in ((too_short, 422), (long_enough, 200)):
        if route == "create":
            email = f"nfd-length-{unique_local()}@example.com"
            response = create(client, admin.headers, email, password)
        elif route == "update other":
            email = account.email
            response = client.put(
                f"{API}/users/{account.id}", json={"password": password}, headers=admin.headers
            )
        else:
            email = account.email
            change = {"password": password, "current_password": account.password}
            response = client.put(f"{API}/users/me", json=change, headers=account.headers)
        assert response.status_code == expected, response.text
        if expected == 422:
            [error] = response.json()["detail"]
            assert (error["loc"], error["type"]) == (["body", "password"], "string_too_short")
    assert login(client, email, long_enough).status_code == 200
    assert login(client, email, unicodedata.normalize("NFC", long_enough)).status_code == 200


# --- kind 10: never without an active administrator ------------------------------------------


@pytest.mark.parametrize("change", [{"is_active": False}, {"is_admin": False}])
def test_an_administrator_cannot_deactivate_or_demote_itself(
    client, session_factory, app_settings, change
):
    # The example: PUT /users/{own id} {"is_active": false} locked everybody out.
    account = make_account(session_factory, app_settings, is_admin=True)
    response = client.put(f"{API}/users/{account.id}", json=change, headers=account.headers)
    assert response.status_code == 400
    assert response.json() == {"detail": NO_SELF_DEMOTION}
    me = client.get(f"{API}/users/me", headers=account.headers)
    assert me.status_code == 200
    assert (me.json()["is_active"], me.json()["is_admin"]) == (True, True)


def test_an_administrator_demotes_another_one(client, session_factory, app_settings, admin):
    other = make_account(session_factory, app_settings, is_admin=True)
    response = client.put(
        f"{API}/users/{other.id}", json={"is_admin": False}, headers=admin.headers
    )
    assert response.status_code == 200
    assert response.json()["is_admin"] is False


@pytest.fixture(scope="module")
def two_admins_only(database_url) -> Iterator[tuple[TestClient, sessionmaker[Session]]]:
    """A database of its own (same engine), without the first administrator."""
    with migrated_database(make_url(database_url).get_backend_name(), "admins") as url:
        engine = create_db_engine(url)
        try:
            with TestClient(create_app(make_settings(url, MODEL_NAME="absent-model"))) as client:
                yield client, create_session_factory(engine)
        finally:
            engine.dispose()


def test_two_administrators_demoting_each_other_at_once_leave_one(two_admins_only, app_settings):
    client, sessions = two_admins_only
    for change in ({"is_admin": False}, {"is_active": False}):
        accounts = []
        with sessions() as session:
            for user in session.query(User).filter(User.is_admin, User.is_active):
                user.is_admin = False
            for _ in range(2):
                user = create_user(
                    session,
                    email=f"adm-{unique_local()}@example.com",
                    password="password-1",
                    is_admin=True,
                )
                accounts.append(user.id)
            session.commit()
        barrier = threading.Barrier(2)
        answers: list[Any] = [None, None]

        def demote(index: int, change=change, accounts=accounts, answers=answers, barrier=barrier):
            me, other = accounts[index], accounts[1 - index]
            barrier.wait()
            answers[index] = client.put(
                f"{API}/users/{other}", json=change, headers=bearer(me, app_settings)
            )

        threads = [threading.Thread(target=demote, args=(index,)) for index in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        codes = sorted(answer.status_code for answer in answers)
        with sessions() as session:
            assert count_active_admins(session) == 1
        # The second one is refused: as the last administrator's remover (400), or because it
        # is no longer an administrator by the time its request is authorised (403).
        assert codes in ([200, 400], [200, 403]), [a.json() for a in answers]
        assert any(a.json() == {"detail": LAST_ADMIN} for a in answers) or 403 in codes


def test_a_renamed_first_administrator_is_not_created_again(two_admins_only):
    # The first administrator changed its e-mail: a restart must not bring back an account
    # with the configured (in development, well-known) password.
    _, sessions = two_admins_only
    settings = make_settings("sqlite://", FIRST_ADMINUSER="renamed-away@example.com")
    with sessions() as session:
        create_user(session, email="renamed@example.com", password="password-1", is_admin=True)
        session.commit()
    assert seed_first_admin(sessions, settings) is None
    with sessions() as session:
        assert get_user_by_email(session, "renamed-away@example.com") is None


def test_a_restart_restores_an_administrator_to_a_locked_out_database(two_admins_only):
    _, sessions = two_admins_only
    settings = make_settings("sqlite://")
    with sessions() as session:
        for user in session.query(User):
            user.is_active = False
        create_user(session, email=settings.FIRST_ADMINUSER, password="anything", is_active=False)
        session.commit()
    seed_first_admin(sessions, settings)
    with sessions() as session:
        restored = get_user_by_email(session, settings.FIRST_ADMINUSER)
        assert restored is not None
        assert (restored.is_active, restored.is_admin) == (True, True)
        assert count_active_admins(session) == 1
