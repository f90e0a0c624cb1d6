"""The administration charts: drawn by the vendored Chart.js from the API's monitoring JSON."""

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session, sessionmaker

from app.db.models import ShadowPrediction
from product_classifier.categories import CATEGORY_CODES
from tests.browser.live_api import LiveApi
from tests.browser.support import Credentials, OpenPage, api_login
from tests.browser.ui import log_in, screenshot, wait_for_view

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

SHADOW_VERSION = "0-chart-challenger"
PRODUCTS = ["Coffret de 12 crayons de couleur", "Chaise de jardin pliante en teck"]

# For each chart: the points Chart.js holds, and whether its canvas has non-blank pixels.
CHART_STATE = """canvas => {
  const chart = window.Chart.getChart(canvas);
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted += 1;
  return {
    labels: chart.data.labels,
    datasets: chart.data.datasets.map(d => ({ label: d.label, data: d.data })),
    painted,
  };
}"""


def _shadowed_predictions_with_feedback(
    live_api: LiveApi, headers: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    """Two served predictions, each with a challenger's answer and a seller's feedback."""
    for offset, designation in enumerate(PRODUCTS):
        response = httpx.post(
            f"{live_api.api_url}/predict/", params={"designation": designation}, headers=headers
        )
        assert response.status_code == 200, response.text
        predicted = response.json()[0]["category_id"]
        prediction_id = int(response.headers["X-Prediction-Id"])
        other = next(code for code in CATEGORY_CODES if code != predicted)
        with sessions() as session:
            session.add(
                ShadowPrediction(
                    prediction_id=prediction_id,
                    model_name=response.headers["X-Model-Name"],
                    model_version=SHADOW_VERSION,
                    results=[{"category_id": predicted if offset else other, "probabilities": 90}],
                    latency_ms=1.0,
                )
            )
            session.commit()
        feedback = {
            "product_id": 770_000 + offset,
            "real_category_id": predicted,
            "pred_category_id": predicted,
            "prediction_id": prediction_id,
        }
        response = httpx.post(f"{live_api.api_url}/feedback/", json=feedback, headers=headers)
        assert response.status_code == 201, response.text


def _chart(page: Page, canvas_id: str) -> dict[str, object]:
    canvas = page.locator(f"#{canvas_id}")
    expect(canvas).to_be_visible()
    state: dict[str, object] = canvas.evaluate(CHART_STATE)
    assert int(str(state["painted"])) > 0, f"#{canvas_id} is blank"
    return state


def test_admin_charts_draw_the_api_figures(
    open_page: OpenPage,
    live_api: LiveApi,
    admin_credentials: Credentials,
    browser_sessions: sessionmaker[Session],
) -> None:
    headers = api_login(live_api.api_url, admin_credentials)
    _shadowed_predictions_with_feedback(live_api, headers, browser_sessions)

    page = open_page()
    log_in(page, admin_credentials.email, admin_credentials.password)
    page.click("#nav-admin")
    # The first challenger report of a process imports scikit-learn and scipy.stats (kept out of
    # the API's start-up): seconds on a busy machine.
    wait_for_view(page, "admin", timeout_ms=60_000)
    expect(page.locator("#charts-card")).to_be_visible()
    assert page.evaluate("window.Chart.version") == "4.5.1"  # the vendored build, not a CDN's

    # Quality over time: one line per model version, the latest slice as the API computed it.
    timeline = httpx.get(
        f"{live_api.api_url}/monitoring/quality/timeline",
        params={"days": 30, "slices": 15},
        headers=headers,
    ).json()
    last = {row["model_version"]: row for row in timeline["slices"][-1]["versions"]}
    for canvas_id, field in (("chart-accuracy", "accuracy"), ("chart-f1", "weighted_f1")):
        state = _chart(page, canvas_id)
        datasets = {d["label"]: d["data"] for d in state["datasets"]}  # type: ignore[attr-defined]
        assert len(state["labels"]) == 15  # type: ignore[arg-type]
        for version, row in last.items():
            assert datasets[f"version {version}"][-1] == pytest.approx(row[field])

    # Champion against challenger: the pair of the inserted shadow predictions.
    report = httpx.get(
        f"{live_api.api_url}/monitoring/challenger", params={"days": 7}, headers=headers
    ).json()
    comparisons = report["comparisons"]
    pair = next(row for row in comparisons if row["challenger_version"] == SHADOW_VERSION)
    assert pair["agreement_rate"] == 0.5
    assert pair["labelled"] == 2
    assert pair["challenger_accuracy"] == 0.5
    state = _chart(page, "chart-challenger")
    bars = {d["label"]: d["data"] for d in state["datasets"]}  # type: ignore[attr-defined]
    position = comparisons.index(pair)
    assert bars["Accord"][position] == 0.5
    assert bars["Exactitude (challenger)"][position] == 0.5
    assert bars["Exactitude (servi)"][position] == pair["champion_accuracy"]

    # Drift: each statistic with a value, beside its threshold.
    drift = httpx.get(f"{live_api.api_url}/monitoring/drift", params={"days": 7}, headers=headers)
    measured = [row for row in drift.json().get("statistics", []) if row["value"] is not None]
    if drift.status_code == 200 and measured:
        state = _chart(page, "chart-drift")
        drawn = {d["label"]: d["data"] for d in state["datasets"]}  # type: ignore[attr-defined]
        assert state["labels"] == [row["name"] for row in measured]
        assert drawn["Seuil"] == [row["threshold"] for row in measured]
        assert drawn["Écart"] == pytest.approx([row["value"] for row in measured])
    else:
        expect(page.locator("#chart-drift")).to_have_count(0)
    screenshot(page, "admin-charts")
