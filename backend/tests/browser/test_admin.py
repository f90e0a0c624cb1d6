"""The administration page: its figures against the database, the API and MLflow."""

from collections import defaultdict

import httpx
import pytest
from mlflow.tracking import MlflowClient
from playwright.sync_api import Page, expect
from sklearn.metrics import f1_score
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.core.config import Settings
from app.db.models import Feedback, Prediction
from product_classifier.categories import CATEGORY_CODES, category_name
from tests.browser.formatting import french_percent, french_ratio, js_fixed
from tests.browser.live_api import LiveApi
from tests.browser.support import MOBILE, Credentials, OpenPage, api_login, token_for
from tests.browser.ui import log_in, screenshot, wait_for_view

# The first browser test also waits for the session's models to train and the API to load
# one (minutes on a busy 2-core machine): a larger cap than the suite's default.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

# Feedback for a version nobody serves (written to the database: the API takes only registered
# versions), with figures checked by hand:
# accuracy 3/4; F1 per category: 10 → 2/3 (support 2), 40 → 2/3 (support 1), 2583 → 1
# (support 1); weighted F1 = (2 x 2/3 + 2/3 + 1) / 4 = 0.75.
KNOWN_VERSION = "0-browser-test"
KNOWN_PAIRS = [(10, 10), (10, 40), (40, 40), (2583, 2583)]
SERVED_PRODUCTS = ["Lot de 6 verres à vin en cristal", "Tondeuse à gazon électrique 1600 W"]
MONITORING_DAYS = 7


def _open_admin(open_page: OpenPage, admin: Credentials, **options: object) -> Page:
    page = open_page(**options)
    log_in(page, admin.email, admin.password)
    expect(page.locator("#nav-admin")).to_be_visible()
    page.click("#nav-admin")
    wait_for_view(page, "admin")
    return page


def _expected_stats(sessions: sessionmaker[Session]) -> dict[str, tuple[int, float, float]]:
    """Count, accuracy and weighted F1 per model version, computed here from the rows."""
    pairs: dict[str, list[tuple[int, int]]] = defaultdict(list)
    with sessions() as session:
        for row in session.scalars(select(Feedback)):
            pairs[row.model_version].append((row.real_category_id, row.pred_category_id))
    stats = {}
    for version, rows in pairs.items():
        real = [real for real, _ in rows]
        predicted = [pred for _, pred in rows]
        accuracy = sum(r == p for r, p in rows) / len(rows)
        weighted = float(f1_score(real, predicted, average="weighted", zero_division=0))
        stats[version] = (len(rows), accuracy, weighted)
    return stats


def test_admin_page_matches_the_database_the_api_and_mlflow(
    open_page: OpenPage,
    live_api: LiveApi,
    admin_credentials: Credentials,
    browser_sessions: sessionmaker[Session],
    tracking_uri: str,
) -> None:
    headers = api_login(live_api.api_url, admin_credentials)
    with browser_sessions() as session:
        session.add_all(
            Feedback(
                product_id=990_000 + offset,
                model_version=KNOWN_VERSION,
                real_category_id=real,
                pred_category_id=predicted,
            )
            for offset, (real, predicted) in enumerate(KNOWN_PAIRS)
        )
        session.commit()
    # Two predictions of the served model, one confirmed and one corrected by the seller.
    for offset, designation in enumerate(SERVED_PRODUCTS):
        response = httpx.post(
            f"{live_api.api_url}/predict/",
            params={"designation": designation, "limit": 3},
            headers=headers,
        )
        assert response.status_code == 200, response.text
        predicted = response.json()[0]["category_id"]
        real = predicted if offset == 0 else next(c for c in CATEGORY_CODES if c != predicted)
        feedback = {
            "product_id": 880_000 + offset,
            "model_version": response.headers["X-Model-Version"],
            "real_category_id": real,
            "pred_category_id": predicted,
            "prediction_id": int(response.headers["X-Prediction-Id"]),
        }
        response = httpx.post(f"{live_api.api_url}/feedback/", json=feedback, headers=headers)
        assert response.status_code == 201, response.text

    page = _open_admin(open_page, admin_credentials)

    # The served model is the version MLflow's alias points at.
    served = MlflowClient(tracking_uri=tracking_uri).get_model_version_by_alias(
        "fusion", "production"
    )
    expect(page.locator("#model-name")).to_have_text("fusion")
    expect(page.locator("#model-version")).to_have_text(str(served.version))
    expect(page.locator("#model-alias")).to_have_text("production")
    expect(page.locator("#model-loaded-at")).not_to_be_empty()

    # Quality per version: the hand-checked row, then every row against the database and API.
    known = page.locator(f"#stats-table tr[data-model-version='{KNOWN_VERSION}']")
    expect(known.locator("[data-field=count]")).to_have_text("4")
    expect(known.locator("[data-field=accuracy]")).to_have_text(french_ratio(0.75))
    expect(known.locator("[data-field=weighted_f1]")).to_have_text("0,750")
    served_row = page.locator(f"#stats-table tr[data-model-version='{served.version}']")
    expect(served_row).to_contain_text("servie")
    expected = _expected_stats(browser_sessions)
    api_stats = httpx.get(f"{live_api.api_url}/feedback/stats", headers=headers).json()
    assert {row["model_version"] for row in api_stats} == set(expected)
    rows = page.locator("#stats-table tbody tr")
    expect(rows).to_have_count(len(expected))
    for row in api_stats:
        count, accuracy, weighted = expected[row["model_version"]]
        assert row["count"] == count
        assert row["accuracy"] == pytest.approx(accuracy)
        assert row["weighted_f1"] == pytest.approx(weighted)
        shown = page.locator(f"#stats-table tr[data-model-version='{row['model_version']}']")
        expect(shown.locator("[data-field=count]")).to_have_text(str(count))
        expect(shown.locator("[data-field=accuracy]")).to_have_text(french_ratio(row["accuracy"]))
        expect(shown.locator("[data-field=weighted_f1]")).to_have_text(
            js_fixed(row["weighted_f1"], 3)
        )

    # The latest predictions, newest first, as stored.
    with browser_sessions() as session:
        latest = list(session.scalars(select(Prediction).order_by(Prediction.id.desc()).limit(20)))
    table_rows = page.locator("#predictions-table tbody tr")
    expect(table_rows).to_have_count(len(latest))
    shown_ids = table_rows.evaluate_all("rows => rows.map(row => Number(row.dataset.predictionId))")
    assert shown_ids == [prediction.id for prediction in latest]
    newest = latest[0]
    top = newest.results[0]
    first = table_rows.first
    expect(first.locator("[data-field=category]")).to_have_text(
        f"{category_name(top['category_id'])} ({top['category_id']})"
    )
    expect(first).to_contain_text(french_percent(top["probabilities"]))
    expect(first).to_contain_text(f"{newest.model_name} v{newest.model_version}")

    _check_monitoring(page, live_api, headers, expected)
    screenshot(page, "admin")

    mobile = _open_admin(open_page, admin_credentials, viewport=MOBILE)
    expect(mobile.locator("#model-version")).to_have_text(str(served.version))
    screenshot(mobile, "admin-mobile")


def _check_monitoring(
    page: Page,
    live_api: LiveApi,
    headers: dict[str, str],
    expected: dict[str, tuple[int, float, float]],
) -> None:
    """The monitoring card shows the API's figures, or is hidden when the API has none."""
    card = page.locator("#monitoring-card")
    params = {"days": MONITORING_DAYS}
    quality = httpx.get(f"{live_api.api_url}/monitoring/quality", params=params, headers=headers)
    if quality.status_code == httpx.codes.NOT_FOUND:
        expect(card).to_be_hidden()
        return
    assert quality.status_code == 200, quality.text
    expect(card).to_be_visible()
    versions = quality.json()["versions"]
    assert {row["model_version"] for row in versions} == set(expected)
    for row in versions:
        count, accuracy, weighted = expected[row["model_version"]]
        assert row["feedback_count"] == count
        assert row["accuracy"] == pytest.approx(accuracy)
        assert row["weighted_f1"] == pytest.approx(weighted)
        shown = page.locator(f"#monitoring-quality tr[data-model-version='{row['model_version']}']")
        expect(shown.locator("[data-field=count]")).to_have_text(str(count))
        expect(shown.locator("[data-field=accuracy]")).to_have_text(french_ratio(row["accuracy"]))
        expect(shown.locator("[data-field=weighted_f1]")).to_have_text(
            js_fixed(row["weighted_f1"], 3)
        )

    errors = httpx.get(
        f"{live_api.api_url}/monitoring/errors", params={**params, "limit": 10}, headers=headers
    ).json()
    wrong = sum(count - round(count * accuracy) for count, accuracy, _ in expected.values())
    assert errors["wrong_count"] == wrong
    pairs = page.locator("#monitoring-errors tbody tr")
    expect(pairs).to_have_count(len(errors["pairs"]))
    first = errors["pairs"][0]
    expect(pairs.first).to_contain_text(category_name(first["predicted_category_id"]))
    expect(pairs.first.locator("[data-field=count]")).to_have_text(str(first["count"]))

    drift = httpx.get(f"{live_api.api_url}/monitoring/drift", params=params, headers=headers)
    if drift.status_code == 200:
        report = drift.json()
        expect(page.locator("#drift-status")).to_have_attribute("data-status", report["status"])
        statistics = page.locator("#monitoring-drift tbody tr")
        expect(statistics).to_have_count(len(report["statistics"]))
        if report["status"] == "insufficient_data":
            # The verdict and every row say the same: not enough recent predictions.
            expect(page.locator("#monitoring-drift")).to_contain_text(
                f"{report['recent']['rows']} sur les {report['min_predictions']} nécessaires"
            )
            states = statistics.locator("[data-field=state]")
            expect(states.filter(has_text="à surveiller")).to_have_count(0)
            for statistic, state in zip(report["statistics"], states.all(), strict=True):
                if statistic["value"] is not None:
                    expect(state).to_have_text("pas assez de données")
    else:
        expect(page.locator("#monitoring-drift")).to_have_count(0)


def test_sellers_cannot_open_the_admin_page(
    open_page: OpenPage, seller_credentials: Credentials
) -> None:
    page = open_page()
    log_in(page, seller_credentials.email, seller_credentials.password)
    expect(page.locator("#nav-admin")).to_be_hidden()
    page.goto("/#/admin")
    wait_for_view(page, "admin")
    expect(page.locator("#admin-message")).to_have_text(
        "Cette page est réservée aux administrateurs."
    )
    expect(page.locator("#model-card")).to_be_hidden()
    expect(page.locator("#stats-card")).to_be_hidden()
    expect(page.locator("#predictions-card")).to_be_hidden()


def test_a_session_expiring_on_the_admin_page_says_so_once_every_call_is_refused(
    open_page: OpenPage, admin_credentials: Credentials, api_settings: Settings
) -> None:
    page = _open_admin(open_page, admin_credentials)
    # The token expires while the page is open; the refresh sends its calls in parallel and
    # each is refused: the first ends the session, the others must not end it again.
    page.evaluate(
        "token => sessionStorage.setItem('categorisation.access_token', token)",
        token_for(admin_credentials.id, api_settings, minutes=-5),
    )
    page.click("#admin-refresh")
    wait_for_view(page, "login")
    expect(page.locator("#login-message")).to_have_text(
        "Votre session a expiré. Reconnectez-vous pour continuer."
    )
    page.wait_for_timeout(1000)  # the last refusals arrive after the login page is shown
    expect(page.locator("#login-message")).to_have_text(
        "Votre session a expiré. Reconnectez-vous pour continuer."
    )
