"""Steps the browser tests take on the web page, and where they save screenshots."""

from playwright.sync_api import Page, expect

from product_classifier.paths import REPOSITORY_ROOT

ARTIFACTS_DIR = REPOSITORY_ROOT / "test-artifacts" / "browser"


def screenshot(page: Page, name: str) -> None:
    """Save a full-page screenshot as test-artifacts/browser/<name>.png."""
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS_DIR / f"{name}.png", full_page=True)


def wait_for_view(page: Page, view: str, timeout_ms: float = 5_000) -> None:
    """Wait until the router has shown ``view`` (login, prediction or admin) and loaded it."""
    expect(page.locator("body")).to_have_attribute("data-ready", view, timeout=timeout_ms)


def log_in(page: Page, email: str, password: str) -> None:
    """Fill and send the login form, then wait for the prediction view."""
    wait_for_view(page, "login")
    page.fill("#login-email", email)
    page.fill("#login-password", password)
    page.click("#login-submit")
    wait_for_view(page, "prediction")


def access_token(page: Page) -> str | None:
    """The token the page keeps in sessionStorage."""
    token: str | None = page.evaluate("() => sessionStorage.getItem('categorisation.access_token')")
    return token
