"""``GET /metrics``: Prometheus text after known requests (counters compared before/after).

The feedback figures, read from the database, are checked on a seeded database in
test_monitoring.py; here they must agree with ``/feedback/stats``.
"""

import textwrap
import uuid

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from app.telemetry.metrics import route_template
from tests.helpers.cli import run_python


def scrape(client) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of ``/metrics``, keyed by name and labels."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return parse(response.text)


def parse(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def value(samples: Samples, name: str, **labels: str) -> float:
    return float(samples.get((name, frozenset(labels.items())), 0.0))


def test_requests_and_predictions_are_counted(client, user, admin, trained_text):
    before = scrape(client)
    tops = []
    for designation in ("Livre de recettes de cuisine", "Peluche lapin pour bébé"):
        response = client.post(
            "/api/v1/predict/", params={"designation": designation}, headers=user.headers
        )
        assert response.status_code == 200
        tops.append(str(response.json()[0]["category_id"]))
    version = response.headers["X-Model-Version"]
    assert client.get("/api/v1/users/987654321", headers=admin.headers).status_code == 404
    assert client.get("/api/v1/predictions/").status_code == 401
    client.get(f"/no-such-page-{uuid.uuid4().hex}")
    after = scrape(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    predict = {"method": "POST", "route": "/api/v1/predict/", "status": "200"}
    assert delta("http_requests_total", **predict) == 2
    assert delta("http_request_duration_seconds_count", **predict) == 2
    assert delta("http_request_duration_seconds_sum", **predict) > 0
    assert delta("http_request_duration_seconds_bucket", **predict, le="+Inf") == 2
    # Route templates, not raw paths: the user id and the random page are not labels.
    user_route = {"method": "GET", "route": "/api/v1/users/{user_id}", "status": "404"}
    assert delta("http_requests_total", **user_route) == 1
    assert delta("http_requests_total", method="GET", route="/api/v1/predictions/", status="401")
    routes = {dict(labels).get("route") for _, labels in after}
    assert not any(route and "no-such-page" in route for route in routes)
    assert not any(route and "987654321" in route for route in routes)

    for category in set(tops):
        expected = tops.count(category)
        labels = {"model_name": "text", "model_version": version, "category": category}
        assert delta("predictions_total", **labels) == expected

    served = {"model_name": "text", "model_version": version, "model_alias": "production"}
    # One per model server of this process serving it (the test session runs several apps).
    assert value(after, "model_served", **served) >= 1
    load = value(after, "model_load_duration_seconds", model_name="text", model_version=version)
    assert 0 < load < 120


def test_feedback_metrics_match_the_feedback_stats(client, user, admin, trained_text):
    response = client.post(
        "/api/v1/predict/", params={"designation": "Jeu de société"}, headers=user.headers
    )
    version = response.headers["X-Model-Version"]
    top = response.json()[0]["category_id"]
    feedback = {
        "product_id": uuid.uuid4().int % 10**12,
        "model_version": version,
        "real_category_id": top,
        "pred_category_id": top,
    }
    assert client.post("/api/v1/feedback/", json=feedback, headers=user.headers).status_code == 201
    samples = scrape(client)
    stats = client.get("/api/v1/feedback/stats", headers=admin.headers).json()
    assert stats
    for row in stats:
        labels = {"model_version": row["model_version"]}
        assert value(samples, "model_feedback_total", **labels) == row["count"]
        assert value(samples, "model_live_accuracy", **labels) == pytest.approx(row["accuracy"])
        assert value(samples, "model_live_weighted_f1", **labels) == pytest.approx(
            row["weighted_f1"]
        )


WORKER = textwrap.dedent(
    """
    import sys
    from app.telemetry import metrics
    metrics.record_predictions("fusion", "3", [10, 10, 2905])
    metrics.record_model_load("fusion", "3", "production", 2.5)
    if sys.argv[1] == "render":
        sys.stdout.write(metrics.render_metrics()[0].decode())
    """
)


def test_multiprocess_mode_sums_the_workers(tmp_path):
    for argument in ("count", "render"):
        completed = run_python(
            "-c", WORKER, argument, env={"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
        )
        assert completed.returncode == 0, completed.stderr
    samples = parse(completed.stdout)
    # Two processes counted 2 x category 10 and 1 x 2905 each.
    labels = {"model_name": "fusion", "model_version": "3"}
    assert value(samples, "predictions_total", **labels, category="10") == 4
    assert value(samples, "predictions_total", **labels, category="2905") == 2
    # The rendering process was alive: its live gauges are there.
    served = {**labels, "model_alias": "production"}
    assert value(samples, "model_served", **served) == 1
    assert value(samples, "model_load_duration_seconds", **labels) == 2.5
    # Both have exited since: their live gauge files are gone, counters stay.
    files = sorted(path.name for path in tmp_path.iterdir())
    assert not [name for name in files if name.startswith("gauge_live")], files
    assert [name for name in files if name.startswith("counter_")]


def test_route_templates_of_every_kind_of_route(tmp_path):
    (tmp_path / "index.html").write_text("<p>page</p>")
    inner = APIRouter(prefix="/users")

    @inner.get("/{user_id}")
    def read(user_id: int) -> int:
        return user_id

    api = APIRouter()
    api.include_router(inner)
    app = FastAPI()
    app.include_router(api, prefix="/api/v1")
    seen: list[tuple[str, str]] = []

    class Recorder:
        def __init__(self, inner_app):
            self.app = inner_app

        async def __call__(self, scope, receive, send):
            await self.app(scope, receive, send)
            seen.append((scope["path"], route_template(scope)))

    app.add_middleware(Recorder)
    app.mount("/static", StaticFiles(directory=tmp_path), name="static")
    app.mount("/", StaticFiles(directory=tmp_path, html=True), name="page")
    client = TestClient(app)
    for path in ("/api/v1/users/3", "/docs", "/static/index.html", "/", "/anything/else"):
        client.get(path)
    assert seen == [
        ("/api/v1/users/3", "/api/v1/users/{user_id}"),
        ("/docs", "/docs"),
        ("/static/index.html", "/static/{path}"),
        ("/", "/{path}"),
        ("/anything/else", "/{path}"),
    ]
    bare = FastAPI()
    bare.add_middleware(Recorder)
    TestClient(bare).get("/missing")
    assert seen[-1] == ("/missing", "<unmatched>")
