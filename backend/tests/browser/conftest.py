"""Browser tests: the web page in real headless Chromium against the real API.

Two uvicorn servers, started together once per session on a temporary SQLite database: one
serves ``fusion@production`` (the tiny models the parent conftest trains with the datascience
CLIs), the other a model nobody registered (for the 503 path). Tests drive the page with
Playwright and check what it shows against the database, the API and MLflow.

Chromium is expected at /usr/bin/chromium (``./scripts/run-tests.sh`` installs it when run as
root). Without it the tests are skipped, except under ``CI=true`` where that is a failure.
"""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright
from sqlalchemy.orm import Session, sessionmaker

from app.core.config import Settings
from app.db.crud.users import create_user, get_user_by_email
from app.db.init_db import migrate, seed_first_admin
from app.db.session import create_db_engine, create_session_factory
from product_classifier.data.original import read_features
from product_classifier.paths import REAL_SAMPLE_DIR
from tests.browser.live_api import LiveApi, LiveApiError, ServerSpec, run_live_apis
from tests.browser.support import DESKTOP, Credentials, OpenPage, SampleProduct
from tests.browser.ui import ARTIFACTS_DIR
from tests.conftest import sessions_on
from tests.helpers.models import TrainedModels

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEFAULT_TIMEOUT_MS = 20_000


# --- prerequisites -----------------------------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def _require_chromium() -> None:
    """Skip the browser tests without Chromium (fail under CI=true), before any model trains."""
    if CHROMIUM.exists():
        return
    reason = (
        f"{CHROMIUM} is missing: browser tests need Chromium "
        "(`apt-get install chromium`; ./scripts/run-tests.sh installs it when run as root)"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}. CI=true: browser tests are required.")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def sample_products() -> list[SampleProduct]:
    """Real products of the Rakuten sample that have their JPEG (skip when it is absent)."""
    images_dir = REAL_SAMPLE_DIR / "images"
    if not images_dir.is_dir():
        pytest.skip(f"The real Rakuten sample is absent ({REAL_SAMPLE_DIR})")
    features = read_features(REAL_SAMPLE_DIR / "X.csv")
    products = []
    for row in features.to_dict("records"):
        image = images_dir / f"image_{row['imageid']}_product_{row['productid']}.jpg"
        if image.is_file() and row["description"]:
            products.append(
                SampleProduct(
                    int(row["productid"]), str(row["designation"]), str(row["description"]), image
                )
            )
        if len(products) == 3:
            return products
    pytest.skip("The real Rakuten sample has no products with text, description and image")


# --- database and server -----------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite database with the first administrator, for the browser tests."""
    url = f"sqlite:///{tmp_path_factory.mktemp('browser-db') / 'app.db'}"
    migrate(url)
    engine = create_db_engine(url)
    seed_first_admin(create_session_factory(engine), Settings(SQLALCHEMY_DATABASE_URI=url))
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def browser_sessions(browser_database_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on the browser tests' database, to check what the page stored."""
    with sessions_on(browser_database_url) as factory:
        yield factory


@pytest.fixture(scope="session")
def api_settings(browser_database_url: str) -> Settings:
    """The settings the live server reads (same environment, same secret)."""
    return Settings(SQLALCHEMY_DATABASE_URI=browser_database_url)


@pytest.fixture(scope="session")
def admin_credentials(
    api_settings: Settings, browser_sessions: sessionmaker[Session]
) -> Credentials:
    """The seeded first administrator."""
    with browser_sessions() as session:
        user = get_user_by_email(session, api_settings.FIRST_ADMINUSER)
        assert user is not None
        return Credentials(user.id, user.email, api_settings.FIRST_ADMINUSER_PASSWORD)


@pytest.fixture(scope="session")
def seller_credentials(browser_sessions: sessionmaker[Session]) -> Credentials:
    """An active user who is not an administrator (a seller)."""
    email = f"vendeur-{uuid.uuid4().hex[:8]}@example.com"
    password = f"mot-de-passe-{uuid.uuid4().hex[:8]}"
    with browser_sessions() as session:
        user = create_user(session, email=email, password=password)
        session.commit()
        return Credentials(user.id, email, password)


@pytest.fixture(scope="session")
def live_apis(
    browser_database_url: str, trained_fusion: TrainedModels, tracking_uri: str
) -> Iterator[dict[str, LiveApi]]:
    """Two real API servers on the same database, started together.

    ``served``: serves ``fusion@production`` and the web page. ``without_model``: configured
    for a model nobody registered, so that its ``/predict`` answers 503.
    """
    common = {
        "SQLALCHEMY_DATABASE_URI": browser_database_url,
        "MLFLOW_TRACKING_URI": tracking_uri,
        "MODEL_ALIAS": "production",
        "MODEL_RELOAD_INTERVAL_SECONDS": "3600",
    }
    specs = {
        "served": ServerSpec({**common, "MODEL_NAME": "fusion"}, ARTIFACTS_DIR / "uvicorn.log"),
        "without_model": ServerSpec(
            {**common, "MODEL_NAME": f"unregistered_{uuid.uuid4().hex[:6]}"},
            ARTIFACTS_DIR / "uvicorn-without-model.log",
            ready_path="/health/live",
        ),
    }
    try:
        with run_live_apis(specs) as servers:
            yield servers
    except LiveApiError as error:
        pytest.fail(str(error))


@pytest.fixture(scope="session")
def live_api(live_apis: dict[str, LiveApi]) -> LiveApi:
    """The real API serving ``fusion@production`` and the web page."""
    return live_apis["served"]


@pytest.fixture(scope="session")
def live_api_without_model(live_apis: dict[str, LiveApi]) -> LiveApi:
    """The same API and database, with no model registered under its name (503 on predict)."""
    return live_apis["without_model"]


# --- browser -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Chromium for the session."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Remember each phase's report on the test item (for screenshots of failures)."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def open_page(
    browser: Browser, live_api: LiveApi, request: pytest.FixtureRequest
) -> Iterator[OpenPage]:
    """Open pages in fresh browser contexts (own sessionStorage) at a server's web page.

    Call ``open_page(viewport=MOBILE, api=other_server)``; the page has loaded ``/``. The
    test fails if the page raised a JavaScript error; a failing test leaves a screenshot.
    """
    pages: list[Page] = []
    errors: list[str] = []

    def _open(viewport: ViewportSize = DESKTOP, api: LiveApi = live_api) -> Page:
        context = browser.new_context(
            base_url=api.base_url, locale="fr-FR", timezone_id="Europe/Paris", viewport=viewport
        )
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto("/")
        pages.append(page)
        return page

    yield _open
    report = getattr(request.node, "report_call", None)
    for index, page in enumerate(pages):
        if report is not None and report.failed:
            page.screenshot(
                path=ARTIFACTS_DIR / f"FAILED-{request.node.name}-{index}.png", full_page=True
            )
        page.context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
