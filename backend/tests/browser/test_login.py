"""Login, logout and the session's end, in a real browser."""

import re
import uuid
from datetime import timedelta

import limits
import pytest
from playwright.sync_api import expect

from app.core.config import Settings
from app.core.security import create_access_token
from tests.browser.support import Credentials, OpenPage, token_for
from tests.browser.ui import access_token, log_in, screenshot, wait_for_view

# The first browser test also waits for the session's models to train and the API to load
# one (minutes on a busy 2-core machine): a larger cap than the suite's default.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]


def test_wrong_password_is_refused_in_plain_french(
    open_page: OpenPage, admin_credentials: Credentials
) -> None:
    page = open_page()
    wait_for_view(page, "login")
    page.fill("#login-email", admin_credentials.email)
    page.fill("#login-password", "not-the-password")
    with page.expect_response("**/api/v1/login/access-token") as answer:
        page.click("#login-submit")
    assert answer.value.status == 401
    expect(page.locator("#login-message")).to_have_text("Adresse e-mail ou mot de passe incorrect.")
    expect(page.locator("#nav")).to_be_hidden()
    assert access_token(page) is None
    screenshot(page, "login-wrong-password")


def test_an_address_longer_than_any_is_refused_in_plain_french(open_page: OpenPage) -> None:
    page = open_page()
    wait_for_view(page, "login")
    page.fill("#login-email", "a" * 64 + "@" + "b" * 300 + ".fr")
    page.fill("#login-password", "not-the-password")
    with page.expect_response("**/api/v1/login/access-token") as answer:
        page.click("#login-submit")
    assert answer.value.status == 422
    expect(page.locator("#login-message")).to_have_text(
        "Vérifiez le formulaire : l'adresse e-mail est trop longue."
    )
    assert access_token(page) is None


def test_too_many_wrong_passwords_are_refused_in_plain_french(
    open_page: OpenPage, api_settings: Settings
) -> None:
    page = open_page()
    wait_for_view(page, "login")
    # An address of its own: the live API counts failures per account.
    allowed = limits.parse(api_settings.LOGIN_FAILURES_PER_ACCOUNT).amount
    page.fill("#login-email", f"devine-{uuid.uuid4().hex[:8]}@example.com")
    page.fill("#login-password", "not-the-password")
    statuses = []
    for _ in range(allowed + 1):
        with page.expect_response("**/api/v1/login/access-token") as answer:
            page.click("#login-submit")
        statuses.append(answer.value.status)
    assert statuses == [401] * allowed + [429]
    # The wait the API gave (Retry-After), in minutes or seconds.
    expect(page.locator("#login-message")).to_have_text(
        re.compile(r"^Trop de tentatives de connexion échouées .* Réessayez dans \d+ minutes?\.$")
    )
    expect(page.locator("#nav")).to_be_hidden()
    screenshot(page, "login-too-many-failures")


def test_pages_need_a_login_and_logout_forgets_the_token(
    open_page: OpenPage, seller_credentials: Credentials
) -> None:
    page = open_page()
    page.goto("/#/admin")
    wait_for_view(page, "login")
    expect(page).to_have_url(re.compile(r"#/login$"))
    screenshot(page, "login")

    log_in(page, seller_credentials.email, seller_credentials.password)
    assert access_token(page)
    expect(page.locator("#nav-user")).to_have_text(seller_credentials.email)
    page.fill("#designation", "Carnet de notes A5")
    page.click("#logout")
    wait_for_view(page, "login")
    assert access_token(page) is None
    expect(page.locator("#login-message")).to_be_hidden()

    # The next person to sign in on this browser does not see what was typed before.
    log_in(page, seller_credentials.email, seller_credentials.password)
    expect(page.locator("#designation")).to_have_value("")


def test_expired_session_returns_to_login_with_a_message(
    open_page: OpenPage, seller_credentials: Credentials, api_settings: Settings
) -> None:
    page = open_page()
    log_in(page, seller_credentials.email, seller_credentials.password)
    page.fill("#designation", "Peluche lapin blanc 30 cm")
    # The session expires while the page is open: the API refuses the next call.
    page.evaluate(
        "token => sessionStorage.setItem('categorisation.access_token', token)",
        token_for(seller_credentials.id, api_settings, minutes=-5),
    )
    with page.expect_response("**/api/v1/predict/**") as answer:
        page.click("#predict-submit")
    assert answer.value.status == 401
    wait_for_view(page, "login")
    expect(page.locator("#login-message")).to_have_text(
        "Votre session a expiré. Reconnectez-vous pour continuer."
    )
    assert access_token(page) is None
    screenshot(page, "login-session-expired")

    # Logging in again comes back to the form, with what was typed still there.
    log_in(page, seller_credentials.email, seller_credentials.password)
    expect(page.locator("#designation")).to_have_value("Peluche lapin blanc 30 cm")


def test_forged_token_ends_the_session(
    open_page: OpenPage, seller_credentials: Credentials
) -> None:
    page = open_page()
    log_in(page, seller_credentials.email, seller_credentials.password)
    forged = create_access_token(
        seller_credentials.id, "a-key-the-api-does-not-know-0123456789", timedelta(hours=1)
    )
    page.evaluate("token => sessionStorage.setItem('categorisation.access_token', token)", forged)
    with page.expect_response("**/api/v1/users/me") as answer:
        page.reload()
    assert answer.value.status == 401
    wait_for_view(page, "login")
    expect(page.locator("#login-message")).to_have_text(
        "Votre session n'est plus valide. Reconnectez-vous."
    )
    assert access_token(page) is None
