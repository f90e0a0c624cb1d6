"""The application shell: online check, categories, docs, JSON errors, CORS, the web page."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.api.deps import SessionDep
from app.api.docs_policy import DOCS_CONTENT_POLICY
from app.main import create_app
from product_classifier.categories import CATEGORIES
from tests.browser.live_api import free_port
from tests.conftest import bearer, make_settings

API = "/api/v1"


def test_online_check_touches_the_database(client, app_settings):
    response = client.get(f"{API}/")
    assert response.status_code == 200
    assert response.json() == f"API {app_settings.PROJECT_NAME} is online!"


def test_api_root_answers_without_its_trailing_slash(client, app_settings):
    # The link start.sh and the README print.
    response = client.get(API, follow_redirects=False)
    assert response.status_code == 200
    assert response.json() == f"API {app_settings.PROJECT_NAME} is online!"
    assert API not in client.get("/openapi.json").json()["paths"], "an alias, not a new route"


@pytest.mark.parametrize(
    ("page", "assets"),
    [
        ("/docs", ["swagger-ui-bundle.js", "swagger-ui.css", "favicon.png"]),
        ("/redoc", ["redoc.standalone.js", "favicon.png"]),
    ],
)
def test_docs_pages_load_their_assets_from_the_api(client, page, assets):
    response = client.get(page)
    # The browser loads nothing from another host (ReDoc points its logo at a CDN).
    assert response.headers["content-security-policy"] == DOCS_CONTENT_POLICY
    assert "content-security-policy" not in client.get(f"{API}/categories/").headers
    html = response.text
    assert "http://" not in html
    assert "https://" not in html, "no CDN: the pages must work offline"
    for asset in assets:
        url = f"/static-offline-docs/{asset}"
        assert url in html
        response = client.get(url)
        assert response.status_code == 200
        assert len(response.content) > 1000


def test_categories_come_from_the_category_table(client):
    response = client.get(f"{API}/categories/")
    assert response.json() == [{"category_id": c, "name": n} for c, n in CATEGORIES.items()]


def test_ready_and_live_with_a_model(client):
    live = client.get(f"{API}/health/live").json()
    assert (live["status"], live["database"], live["model"]) == ("alive", None, None)
    ready = client.get(f"{API}/health/ready")
    assert ready.status_code == 200
    body = ready.json()
    assert (body["status"], body["database"], body["model"]) == (
        "ready",
        "ok",
        "text@production (version 1)",
    )
    assert body["warnings"] == []
    assert body["registry"]["reachable"] is True
    assert (body["alias_target"]["version"], body["alias_target"]["state"]) == ("1", "served")


def test_current_model(client):
    body = client.get(f"{API}/models/current").json()
    assert (body["name"], body["version"], body["alias"]) == ("text", "1", "production")
    assert body["loaded_at"]
    assert body["run_id"]
    # The alias points at the served version.
    assert body["alias_target"]["version"] == "1"
    assert body["alias_target"]["run_id"] == body["run_id"]
    assert body["alias_target"]["state"] == "served"
    assert body["alias_target"]["load_error"] is None


def test_swagger_documents_every_route_with_tags(client):
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/",
        "/login/access-token",
        "/login/test-token",
        "/users/",
        "/users/me",
        "/users/{user_id}",
        "/users/open",
        "/predict/",
        "/predict/batch",
        "/predictions/",
        "/feedback/",
        "/feedback/stats",
        "/models/current",
        "/health/live",
        "/health/ready",
        "/categories/",
    ):
        assert f"{API}{path}" in paths, path
    for operations in paths.values():
        for operation in operations.values():
            assert operation["tags"], operation["operationId"]
            assert operation.get("description") or operation.get("summary")
    assert {tag["name"] for tag in spec["tags"]} >= {"predict", "feedback", "users", "login"}


def test_unknown_route_and_method_are_json_errors(client):
    missing = client.get(f"{API}/no-such-route")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Not Found"}
    wrong_method = client.delete(f"{API}/predict/")
    assert wrong_method.status_code == 405
    assert wrong_method.json() == {"detail": "Method Not Allowed"}


def test_unexpected_errors_are_a_json_500_without_stack_trace(database_url, tmp_path):
    settings = make_settings(database_url, MODEL_NAME="absent-model")
    app = create_app(settings, frontend_dir=tmp_path)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error"}
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text


def test_cors_allows_configured_origins(database_url):
    settings = make_settings(
        database_url, MODEL_NAME="absent-model", BACKEND_CORS_ORIGINS=["http://shop.example"]
    )
    with TestClient(create_app(settings)) as client:
        response = client.get(f"{API}/health/live", headers={"Origin": "http://shop.example"})
        assert response.headers["access-control-allow-origin"] == "http://shop.example"
        other = client.get(f"{API}/health/live", headers={"Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_web_page_is_served_at_root_after_the_api(database_url, tmp_path):
    (tmp_path / "index.html").write_text("<h1>Catégorisation</h1>", encoding="utf-8")
    (tmp_path / "app.js").write_text("console.log(1)", encoding="utf-8")
    settings = make_settings(database_url, MODEL_NAME="absent-model")
    with TestClient(create_app(settings, frontend_dir=tmp_path)) as client:
        page = client.get("/")
        assert page.status_code == 200
        assert "Catégorisation" in page.text
        assert client.get("/app.js").status_code == 200
        assert client.get(f"{API}/health/live").status_code == 200
        assert client.get("/docs").status_code == 200
        assert client.get("/missing.js").status_code == 404


def test_no_web_page_without_index(database_url, tmp_path):
    settings = make_settings(database_url, MODEL_NAME="absent-model")
    with TestClient(create_app(settings, frontend_dir=tmp_path)) as client:
        assert client.get("/").status_code == 404


def test_uploads_are_kept_in_memory(client, app_settings):
    from starlette.formparsers import MultiPartParser

    # Starlette spools larger files to disk: the cap keeps every accepted upload in memory.
    assert MultiPartParser.spool_max_size >= app_settings.max_predict_body_bytes


def test_an_unreachable_database_is_a_503_with_retry_after(database_url, tmp_path):
    # A PostgreSQL URL on a loopback port nobody listens on: every connection is refused.
    dead = f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/app"
    settings = make_settings(dead, MODEL_NAME="absent-model", DATABASE_TIMEOUT_SECONDS=2)
    with TestClient(create_app(settings, frontend_dir=tmp_path)) as client:
        assert client.get(f"{API}/health/live").status_code == 200
        ready = client.get(f"{API}/health/ready")
        assert ready.status_code == 503
        assert "the database does not answer" in ready.json()["detail"]
        assert ready.headers["Retry-After"] == "2"
        for response in (
            client.post(
                f"{API}/login/access-token", data={"username": "a@example.com", "password": "x"}
            ),
            client.get(f"{API}/users/me", headers=bearer(1, settings)),
            client.get(f"{API}/"),
        ):
            assert response.status_code == 503, response.text
            assert response.json() == {
                "detail": "The database is unavailable right now; this request was not "
                "completed. Retry later."
            }
            assert response.headers["Retry-After"] == "2"

    # The other database errors stay our own faults: a plain 500.
    app = create_app(make_settings(database_url, MODEL_NAME="absent-model"), frontend_dir=tmp_path)

    @app.get("/bad-sql")
    def bad_sql(session: SessionDep) -> None:
        session.execute(text("SELECT no_such_column FROM users"))

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/bad-sql")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error"}


def test_openapi_documents_the_database_503_where_the_database_is_used(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path, method in (
        ("/login/access-token", "post"),
        ("/users/me", "get"),
        ("/feedback/", "post"),
        ("/predict/", "post"),
        ("/health/ready", "get"),
    ):
        answer = paths[f"{API}{path}"][method]["responses"]["503"]
        assert "DATABASE_TIMEOUT_SECONDS" in answer["description"], path
        assert "Retry-After" in answer["headers"], path
    # The model's own 503 is still described beside the database's.
    assert "No model" in paths[f"{API}/predict/"]["post"]["responses"]["503"]["description"]
    for path in ("/health/live", "/models/current", "/categories/"):
        described = paths[f"{API}{path}"]["get"]["responses"].get("503", {})
        assert "DATABASE_TIMEOUT_SECONDS" not in described.get("description", ""), path
