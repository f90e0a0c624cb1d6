"""Monitoring figures on a database seeded with known predictions and feedback (both backends).

The expected values are worked out by hand in tests/helpers/monitoring.py.
"""

import base64
import math
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from html.parser import HTMLParser

import mlflow
import pytest
from fastapi.testclient import TestClient
from mlflow.tracking import MlflowClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session, sessionmaker

from app.core.config import Settings
from app.db.crud.users import get_user_by_email
from app.db.init_db import migrate, seed_first_admin
from app.db.session import create_db_engine, create_session_factory
from app.main import create_app
from app.monitoring.drift import psi
from app.monitoring.html_report import render_html
from app.monitoring.quality import frequent_errors, last_days, quality_by_version
from app.monitoring.reference import find_reference
from app.monitoring.service import drift_report, monitoring_report
from app.schemas.monitoring import DriftReport, DriftStatistic
from tests.conftest import (
    SESSION_HOME,
    bearer,
    dispose_database,
    make_account,
    make_settings,
    new_database_url,
)
from tests.helpers import monitoring as seeded_data
from tests.helpers.cli import run_python
from tests.helpers.monitoring import (
    NOW,
    V1_ACCURACY,
    V1_WEIGHTED_F1,
    V2_ACCURACY,
    V2_WEIGHTED_F1,
    RegisteredModels,
)

# PSI of the seeded recent products against the training rows (0.5 pseudo-count per bin),
# by hand:
#   designation, 10 bins: p = 50.5/105 (x2), 0.5/105 (x8); q = 20.5/25, 0.5/25 (x9)
#     (0.82-0.48095)ln(0.82/0.48095) + (0.02-0.48095)ln(0.02/0.48095)
#     + 8(0.02-0.0047619)ln(0.02/0.0047619) = 0.18091 + 1.46585 + 0.17494 = 1.8217
#   description, 8 bins: p = 40.5/104, 60.5/104, 0.5/104 (x6); q = 15.5/24, 5.5/24, 0.5/24 (x6)
#     0.12971 + 0.32843 + 0.14099 = 0.5991
#   categories, 27 bins: p = 50.5/113.5 (x2), 0.5/113.5 (x25); q = 20.5/33.5, 0.5/33.5 (x26)
#     0.05323 + 1.45980 + 0.32093 = 1.8340
DESIGNATION_PSI = 1.8217
DESCRIPTION_PSI = 0.5991
CATEGORY_PSI = 1.8340


@dataclass(frozen=True)
class Seeded:
    url: str
    factory: sessionmaker[Session]
    models: RegisteredModels
    tracking_uri: str


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def seeded(request, tmp_path_factory, tracking_uri) -> Iterator[Seeded]:
    url = new_database_url(request.param, "monitoring", SESSION_HOME / "databases")
    try:
        migrate(url)
        engine = create_db_engine(url)
        factory = create_session_factory(engine)
        seed_first_admin(factory, Settings())
        models = seeded_data.register_models(tracking_uri, tmp_path_factory.mktemp("registry"))
        seeded_data.seed(factory, models)
        yield Seeded(url, factory, models, tracking_uri)
        engine.dispose()
    finally:
        dispose_database(url)


@pytest.fixture(scope="module")
def api(seeded) -> Iterator[TestClient]:
    settings = make_settings(seeded.url, MODEL_NAME=seeded.models.with_profile)
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="module")
def admin_headers(seeded) -> dict[str, str]:
    settings = Settings()
    with seeded.factory() as session:
        admin = get_user_by_email(session, settings.FIRST_ADMINUSER)
        assert admin is not None
        return bearer(admin.id, settings)


def _by_name(report: DriftReport) -> dict[str, DriftStatistic]:
    return {statistic.name: statistic for statistic in report.statistics}


# --- PSI ---------------------------------------------------------------------------------


def test_psi_hand_checked():
    assert psi([5, 5], [7, 7]) == 0.0
    # p = (10.5/11, 0.5/11), q = (0.5/11, 10.5/11): 2 * (10/11) * ln(21) = 5.5355
    assert psi([10, 0], [0, 10]) == pytest.approx(2 * (10 / 11) * math.log(21))
    with pytest.raises(ValueError, match="same"):
        psi([1, 2], [1])


# --- quality -----------------------------------------------------------------------------


def test_quality_per_version_in_the_window(seeded):
    with seeded.factory() as session:
        report = quality_by_version(session, last_days(7, NOW + timedelta(seconds=1)))
    versions = {row.model_version: row for row in report.versions}
    assert set(versions) == {"1", "2"}
    assert versions["1"].feedback_count == 4
    assert versions["1"].correct == 3
    assert versions["1"].accuracy == pytest.approx(V1_ACCURACY)
    assert versions["1"].weighted_f1 == pytest.approx(V1_WEIGHTED_F1)
    assert versions["2"].feedback_count == 3
    assert versions["2"].accuracy == pytest.approx(V2_ACCURACY)
    assert versions["2"].weighted_f1 == pytest.approx(V2_WEIGHTED_F1)


def test_a_longer_window_takes_the_old_feedback(seeded):
    with seeded.factory() as session:
        report = quality_by_version(session, last_days(60), model_version="1")
    (version,) = report.versions
    # (10,10) x2, (10,40), (40,40), (10,2905): 3 right of 5.
    assert version.feedback_count == 5
    assert version.accuracy == pytest.approx(3 / 5)


def test_most_frequent_errors(seeded):
    with seeded.factory() as session:
        errors = frequent_errors(session, last_days(7))
        only_v1 = frequent_errors(session, last_days(7), model_version="1")
    assert errors.feedback_count == 7
    assert errors.wrong_count == 3
    pairs = [(p.predicted_category_id, p.real_category_id, p.count) for p in errors.pairs]
    assert pairs == [(1281, 1280, 2), (40, 10, 1)]
    assert errors.pairs[0].share_of_errors == pytest.approx(2 / 3)
    assert errors.pairs[0].predicted_category == "Jeu de société"
    assert errors.pairs[0].real_category == "Jouet pour enfant"
    assert [(p.predicted_category_id, p.real_category_id) for p in only_v1.pairs] == [(40, 10)]
    assert only_v1.pairs[0].share_of_errors == 1.0


# --- drift -------------------------------------------------------------------------------


def _drift(seeded: Seeded, name: str, min_predictions: int) -> DriftReport:
    reference = find_reference(seeded.tracking_uri, name, "1")
    with seeded.factory() as session:
        return drift_report(
            session, reference, name, "1", last_days(7), min_predictions=min_predictions
        )


def test_drift_is_flagged_past_the_thresholds(seeded):
    report = _drift(seeded, seeded.models.with_profile, min_predictions=10)
    assert report.status == "drift"
    assert report.drift_detected
    assert report.reference is not None
    assert report.reference.rows == 100
    assert report.recent.rows == 20
    assert "data_profile.json of run" in report.reference_source
    stats = _by_name(report)
    assert stats["designation_length"].value == pytest.approx(DESIGNATION_PSI, abs=1e-3)
    assert stats["designation_length"].reference_value == pytest.approx(50)
    assert stats["designation_length"].recent_value == pytest.approx(30)
    assert stats["description_length"].value == pytest.approx(DESCRIPTION_PSI, abs=1e-3)
    assert stats["description_length"].reference_value == pytest.approx(90)
    assert stats["description_length"].recent_value == pytest.approx(37.5)
    assert stats["empty_description_rate"].value == pytest.approx(0.35)
    assert stats["empty_description_rate"].reference_value == pytest.approx(0.40)
    assert stats["empty_description_rate"].recent_value == pytest.approx(0.75)
    assert stats["image_rate"].value == pytest.approx(0.60)
    assert stats["category_distribution"].value == pytest.approx(CATEGORY_PSI, abs=1e-3)
    assert stats["category_distribution"].recent_value == 1.0
    assert all(statistic.drifted for statistic in report.statistics)
    assert report.recent.categories == {10: 20}


def test_too_few_predictions_are_not_flagged(seeded):
    report = _drift(seeded, seeded.models.with_profile, min_predictions=100)
    assert report.status == "insufficient_data"
    assert not report.drift_detected
    assert not any(statistic.drifted for statistic in report.statistics)
    assert _by_name(report)["image_rate"].value == pytest.approx(0.60)


def test_no_reference_profile_is_said_clearly(seeded):
    report = _drift(seeded, seeded.models.without_profile, min_predictions=10)
    assert report.status == "no_reference"
    assert not report.drift_detected
    assert report.reference is None
    assert "has no data_profile.json" in report.message
    assert report.recent.rows == 20
    assert all(statistic.value is None for statistic in report.statistics)
    assert _by_name(report)["empty_description_rate"].recent_value == pytest.approx(0.75)


def test_reference_falls_back_to_the_runs_dataset_folder(seeded):
    report = _drift(seeded, seeded.models.with_dataset_folder, min_predictions=10)
    assert report.status == "drift"
    assert str(seeded.models.dataset_dir) in report.reference_source
    assert report.reference is not None
    assert report.reference.rows == 100
    assert report.reference.image_rate == pytest.approx(0.80)
    assert _by_name(report)["designation_length"].value == pytest.approx(DESIGNATION_PSI, abs=1e-3)


# --- routes ------------------------------------------------------------------------------


def test_routes_are_for_administrators(api, seeded):
    user = make_account(seeded.factory, Settings())
    for path in ("quality", "errors", "drift", "report"):
        assert api.get(f"/api/v1/monitoring/{path}").status_code == 401
        assert api.get(f"/api/v1/monitoring/{path}", headers=user.headers).status_code == 403


def test_quality_and_errors_routes(api, admin_headers):
    quality = api.get("/api/v1/monitoring/quality", params={"days": 7}, headers=admin_headers)
    assert quality.status_code == 200
    versions = {row["model_version"]: row for row in quality.json()["versions"]}
    assert versions["1"]["accuracy"] == pytest.approx(V1_ACCURACY)
    assert versions["1"]["weighted_f1"] == pytest.approx(V1_WEIGHTED_F1)
    errors = api.get("/api/v1/monitoring/errors", params={"limit": 1}, headers=admin_headers)
    assert errors.status_code == 200
    body = errors.json()
    assert body["wrong_count"] == 3
    assert [(p["predicted_category_id"], p["count"]) for p in body["pairs"]] == [(1281, 2)]


@pytest.mark.parametrize("days", ["nan", "inf", "-inf", "NaN"])
@pytest.mark.parametrize("route", ["quality", "quality/timeline", "errors", "drift", "report"])
def test_a_window_that_is_not_a_finite_number_is_said_so(api, admin_headers, route, days):
    response = api.get(f"/api/v1/monitoring/{route}", params={"days": days}, headers=admin_headers)
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert (error["loc"], error["type"]) == (["query", "days"], "finite_number")


def test_drift_and_report_routes(api, admin_headers, seeded):
    params = {"model_version": "1", "min_predictions": 10}
    drift = api.get("/api/v1/monitoring/drift", params=params, headers=admin_headers)
    assert drift.status_code == 200
    body = drift.json()
    assert body["model_name"] == seeded.models.with_profile
    assert body["status"] == "drift"
    stats = {row["name"]: row for row in body["statistics"]}
    assert stats["image_rate"]["value"] == pytest.approx(0.60)
    assert stats["image_rate"]["threshold"] == 0.10
    assert stats["designation_length"]["threshold"] == 0.2

    report = api.get("/api/v1/monitoring/report", params=params, headers=admin_headers)
    assert report.status_code == 200
    full = report.json()
    assert full["drift"]["statistics"] == body["statistics"]
    assert full["errors"]["model_version"] == "1"
    volume = {(v["model_name"], v["model_version"]): v["count"] for v in full["volume"]}
    assert volume[(seeded.models.with_profile, "1")] == 20
    assert volume[(seeded.models.with_profile, "2")] == 3


def test_default_version_is_the_last_predicted_without_a_served_model(api, admin_headers):
    drift = api.get("/api/v1/monitoring/drift", headers=admin_headers)
    assert drift.status_code == 200
    # Nothing served, no production alias: the latest stored prediction was made by version 2,
    # which is not registered, so there is no reference.
    assert drift.json()["model_version"] == "2"
    assert drift.json()["status"] == "no_reference"
    missing = api.get(
        "/api/v1/monitoring/drift", params={"model_name": "never-predicted"}, headers=admin_headers
    )
    assert missing.status_code == 404
    assert "pass model_version" in missing.json()["detail"]


@pytest.mark.parametrize("route", ["drift", "report"])
@pytest.mark.parametrize("version", ["3", "9999999999"])
def test_a_version_that_exists_nowhere_is_404(api, admin_headers, seeded, route, version):
    response = api.get(
        f"/api/v1/monitoring/{route}", params={"model_version": version}, headers=admin_headers
    )
    assert response.status_code == 404, response.text
    assert response.json() == {
        "detail": f"Version {version!r} of model {seeded.models.with_profile!r} is neither "
        "registered in MLflow nor found in the stored predictions."
    }
    other = api.get(
        f"/api/v1/monitoring/{route}",
        params={"model_name": seeded.models.without_profile, "model_version": "2"},
        headers=admin_headers,
    )
    assert other.status_code == 404, other.text
    assert seeded.models.without_profile in other.json()["detail"]


@pytest.mark.parametrize("route", ["quality", "errors", "drift", "report"])
@pytest.mark.parametrize("written", ["01", " 1", "1 ", "+1", "1.0", "v1", "0", "abc"])
def test_a_version_written_otherwise_than_mlflow_does_is_422(api, admin_headers, route, written):
    # MLflow reads "01" as version 1 while the predictions store "1": drift answered version 1's
    # training profile against no prediction at all.
    response = api.get(
        f"/api/v1/monitoring/{route}", params={"model_version": written}, headers=admin_headers
    )
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert (error["loc"], error["type"]) == (["query", "model_version"], "string_pattern_mismatch")
    plain = api.get(
        f"/api/v1/monitoring/{route}", params={"model_version": "1"}, headers=admin_headers
    )
    assert plain.status_code == 200, plain.text


@pytest.mark.parametrize("route", ["drift", "report"])
def test_a_version_only_in_the_predictions_is_still_monitored(api, admin_headers, route):
    # Version 2 made predictions but is not (or no longer) in the registry.
    response = api.get(
        f"/api/v1/monitoring/{route}", params={"model_version": "2"}, headers=admin_headers
    )
    assert response.status_code == 200, response.text
    drift = response.json() if route == "drift" else response.json()["drift"]
    assert (drift["model_version"], drift["status"]) == ("2", "no_reference")
    assert "is not in the registry" in drift["message"]


def test_a_registered_version_without_predictions_is_monitored(api, admin_headers, tracking_uri):
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    name = f"unpredicted-{uuid.uuid4().hex[:8]}"
    client.create_registered_model(name)
    client.create_model_version(name, "file:///nowhere/model", await_creation_for=0)
    response = api.get(
        "/api/v1/monitoring/drift",
        params={"model_name": name, "model_version": "1"},
        headers=admin_headers,
    )
    assert response.status_code == 200, response.text
    assert (response.json()["recent"]["rows"], response.json()["status"]) == (0, "no_reference")
    assert "has no training run" in response.json()["message"]


def test_an_unreachable_registry_does_not_make_a_version_unknown(
    seeded, admin_headers, tracking_uri, monkeypatch
):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    settings = make_settings(
        seeded.url, MODEL_NAME=seeded.models.with_profile, MLFLOW_TRACKING_URI="http://127.0.0.1:9"
    )
    try:
        with TestClient(create_app(settings)) as client:
            response = client.get(
                "/api/v1/monitoring/drift", params={"model_version": "3"}, headers=admin_headers
            )
    finally:  # the app pointed MLflow's process-wide URIs elsewhere
        mlflow.set_tracking_uri(tracking_uri)
        mlflow.set_registry_uri(tracking_uri)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "no_reference"
    assert "cannot ask the registry" in response.json()["message"]


def test_metrics_expose_feedback_figures_from_the_database(api):
    response = api.get("/metrics")
    assert response.status_code == 200
    samples = {
        (sample.name, sample.labels.get("model_version")): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name.startswith("model_")
    }
    # All-time feedback: version 1 has the 4 recent and the old one (3 right of 5).
    assert samples[("model_feedback_total", "1")] == 5
    assert samples[("model_live_accuracy", "1")] == pytest.approx(3 / 5)
    assert samples[("model_feedback_total", "2")] == 3
    assert samples[("model_live_accuracy", "2")] == pytest.approx(V2_ACCURACY)
    assert samples[("model_live_weighted_f1", "2")] == pytest.approx(V2_WEIGHTED_F1)


# --- HTML report -------------------------------------------------------------------------


class _Page(HTMLParser):
    """Collects the text of table rows and the images of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.images: list[str] = []
        self.text: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in {"td", "th"}:
            self._cell = []
        elif tag == "img":
            self.images.append(dict(attrs)["src"])

    def handle_endtag(self, tag):
        if tag in {"td", "th"} and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def assert_page_has_the_figures(html: str) -> None:
    page = _Page()
    page.feed(html)
    page.close()
    rows = {row[0]: row for row in page.rows if row}
    # Quality table: version, feedback, correct, accuracy, weighted F1.
    assert rows["1"] == ["1", "4", "3", "75.0 %", "0.767"]
    assert rows["2"] == ["2", "3", "1", "33.3 %", "0.500"]
    # Drift table: statistic, method, value, threshold, drifted, training, recent.
    assert rows["image_rate"] == [
        "image_rate",
        "absolute_difference",
        "0.600",
        "0.10",
        "DRIFT",
        "80.0 %",
        "20.0 %",
    ]
    assert rows["designation_length"][2] == f"{DESIGNATION_PSI:.3f}"
    # Errors of version 1: predicted 40 for a real 10, once (its only error).
    assert rows["40 Jeu vidéo - Jeu"][1:] == ["10 Livre d'occasion", "1", "100.0 %"]
    assert "DRIFT" in "".join(page.text)
    # Quality, two length histograms, categories, rates: five inline PNG plots.
    assert len(page.images) == 5
    for source in page.images:
        prefix = "data:image/png;base64,"
        assert source.startswith(prefix)
        assert base64.b64decode(source.removeprefix(prefix)).startswith(b"\x89PNG\r\n\x1a\n")


def test_report_page_has_the_figures(seeded):
    name = seeded.models.with_profile
    reference = find_reference(seeded.tracking_uri, name, "1")
    with seeded.factory() as session:
        report = monitoring_report(session, reference, name, "1", last_days(7), min_predictions=10)
    assert_page_has_the_figures(render_html(report))


def test_report_command_writes_the_page(seeded, tmp_path):
    if not seeded.url.startswith("sqlite"):
        pytest.skip("The command runs once, on SQLite; the page is checked on both databases.")
    output = tmp_path / "reports" / "report.html"
    env = {
        "SQLALCHEMY_DATABASE_URI": seeded.url,
        "MLFLOW_TRACKING_URI": seeded.tracking_uri,
        "MODEL_NAME": seeded.models.with_profile,
    }
    completed = run_python(
        *("-m", "scripts.monitoring_report", "--output", str(output), "--model-version", "1"),
        *("--days", "7", "--min-predictions", "10"),
        env=env,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "Drift: drift" in completed.stdout
    assert "Version 1: 4 feedback, accuracy 0.750, weighted F1 0.767" in completed.stdout
    assert_page_has_the_figures(output.read_text(encoding="utf-8"))


def test_report_command_refuses_a_version_that_exists_nowhere(seeded, tmp_path):
    if not seeded.url.startswith("sqlite"):
        pytest.skip("The command runs once, on SQLite; the check is the routes' (both databases).")
    output = tmp_path / "report.html"
    env = {
        "SQLALCHEMY_DATABASE_URI": seeded.url,
        "MLFLOW_TRACKING_URI": seeded.tracking_uri,
        "MODEL_NAME": seeded.models.with_profile,
    }
    completed = run_python(
        "-m",
        "scripts.monitoring_report",
        "--output",
        str(output),
        "--model-version",
        "abc",
        env=env,
    )
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert "'abc'" in completed.stderr
    assert "neither registered in MLflow nor found in the stored predictions" in completed.stderr
    assert not output.exists()


def test_report_command_refuses_an_empty_window(tmp_path):
    from scripts import monitoring_report

    with pytest.raises(SystemExit) as exited:
        monitoring_report.main(["--output", str(tmp_path / "r.html"), "--days", "0"])
    assert exited.value.code == 2


def test_html_escapes_what_it_shows(seeded):
    reference = find_reference(seeded.tracking_uri, seeded.models.without_profile, "1")
    with seeded.factory() as session:
        report = monitoring_report(
            session, reference, "<script>alert(1)</script>", "1", last_days(7)
        )
    page = render_html(report)
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert "NO_REFERENCE" in page
