"""Swagger UI and ReDoc render the API's operations with every other host out of reach.

Each page runs in a browser context where any request to a host other than the API's is
aborted and recorded, as on a machine without internet: the pages must render from the API's
own files, and must not even try another host.
"""

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.browser.conftest import DEFAULT_TIMEOUT_MS
from tests.browser.live_api import LiveApi
from tests.browser.support import DESKTOP
from tests.browser.ui import screenshot, wait_for_view

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]


class OfflinePage:
    """A page whose requests to other hosts are aborted; remembers them and page errors."""

    def __init__(self, browser: Browser, api: LiveApi) -> None:
        self.api_host = urlsplit(api.base_url).netloc
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.context = browser.new_context(base_url=api.base_url, viewport=DESKTOP)
        self.context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        self.context.route("**/*", self._only_the_api)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _only_the_api(self, route: Route) -> None:
        url = route.request.url
        if urlsplit(url).netloc == self.api_host or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort("internetdisconnected")


@pytest.fixture
def offline(browser: Browser, live_api: LiveApi) -> Iterator[OfflinePage]:
    """A browser page that can reach the API and nothing else."""
    page = OfflinePage(browser, live_api)
    yield page
    page.context.close()
    assert page.blocked == [], f"the page tried to reach other hosts: {page.blocked}"
    assert page.errors == [], f"JavaScript errors: {page.errors}"


def expect_swagger_operations(page: Page) -> None:
    """Swagger UI shows the API's operations, and one opens with its parameters."""
    predict = page.locator(".opblock-post", has_text="/api/v1/predict/").first
    expect(predict).to_be_visible()
    assert page.locator(".opblock").count() >= 15
    expect(page.locator(".opblock-tag", has_text="feedback")).to_be_visible()
    predict.locator(".opblock-summary").click()
    expect(predict.locator("table.parameters")).to_contain_text("designation")


def test_swagger_ui_renders_offline(offline: OfflinePage) -> None:
    offline.page.goto("/docs")
    expect_swagger_operations(offline.page)
    screenshot(offline.page, "docs-swagger-offline")


def test_redoc_renders_offline(offline: OfflinePage) -> None:
    page = offline.page
    page.goto("/redoc")
    operations = page.locator("[data-section-id^='operation/']")
    expect(operations.first).to_be_attached()
    assert operations.count() >= 15
    expect(page.get_by_role("heading", name="Predict", exact=False).first).to_be_visible()
    expect(page.locator("body")).to_contain_text("/api/v1/predict/")
    screenshot(page, "docs-redoc-offline")


def test_web_page_documentation_link_opens_working_docs(offline: OfflinePage) -> None:
    page = offline.page
    page.goto("/")
    wait_for_view(page, "login")
    page.get_by_role("link", name="Documentation de l'API").click()
    page.wait_for_url("**/docs")
    expect_swagger_operations(page)
