"""The README's promotion in the MLflow UI, click by click, on the pinned MLflow version.

``scripts/mlflow-ui.sh`` serves a temporary store holding two versions of ``fusion``
(``production`` on version 1); Chromium opens the registry link that start.sh and the README
print, gives version 2 the ``production`` alias as the README says, and the registry must then
point there. Requests to other hosts are aborted, as on a machine without internet. The
screenshots go to test-artifacts/browser (``docs/images/mlflow-promote.png`` is one of them).
"""

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from mlflow.tracking import MlflowClient
from playwright.sync_api import Browser, Page, Route, expect

from product_classifier.paths import REPOSITORY_ROOT
from tests.browser.live_api import free_port
from tests.browser.ui import screenshot

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

STARTUP_TIMEOUT_SECONDS = 180.0


def _registry_with_two_versions(tracking_uri: str) -> None:
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    experiment = client.create_experiment("fusion-model")
    client.create_registered_model("fusion", description="The demo fusion model.")
    for _ in range(2):
        run = client.create_run(experiment)
        client.set_terminated(run.info.run_id)
        client.create_model_version("fusion", f"runs:/{run.info.run_id}/model", run.info.run_id)
    client.set_registered_model_alias("fusion", "production", "1")


@pytest.fixture(scope="module")
def mlflow_ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """``scripts/mlflow-ui.sh`` on a temporary store; yields (UI URL, tracking URI)."""
    root = tmp_path_factory.mktemp("mlflow-ui")
    tracking_uri = f"sqlite:///{root / 'mlflow.db'}"
    _registry_with_two_versions(tracking_uri)
    port = free_port()
    environment = {
        **os.environ,
        "STATE_DIR": str(root / "state"),
        "MLFLOW_TRACKING_URI": tracking_uri,
        "MLFLOW_PORT": str(port),
    }
    log = root / "mlflow-ui.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            ["bash", str(REPOSITORY_ROOT / "scripts" / "mlflow-ui.sh")],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not _answers(f"{url}/health"):
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f"the MLflow UI did not start:\n{log.read_text()}"
            time.sleep(1.0)
        yield url, tracking_uri
    finally:
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C in its terminal
        status = process.wait(timeout=30)
        text = log.read_text(errors="replace")
        assert "Traceback" not in text, f"Ctrl-C printed a traceback:\n{text}"
        assert status == 0, text


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
def page(browser: Browser, mlflow_ui: tuple[str, str]) -> Iterator[Page]:
    """A page that reaches the MLflow UI and nothing else."""
    url, _ = mlflow_ui
    host = urlsplit(url).netloc

    def only_the_ui(route: Route) -> None:
        if urlsplit(route.request.url).netloc in {host, ""}:
            route.continue_()
        else:
            route.abort("internetdisconnected")

    context = browser.new_context(base_url=url, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(30_000)
    context.route("**/*", only_the_ui)
    yield context.new_page()
    context.close()


def test_server_reports_ui_telemetry_off(mlflow_ui: tuple[str, str]) -> None:
    url, _ = mlflow_ui
    config = httpx.get(f"{url}/ajax-api/3.0/mlflow/ui-telemetry", timeout=30).json()
    assert config["disable_ui_telemetry"] is True


def test_promote_a_version_in_the_ui_as_the_readme_says(
    page: Page, mlflow_ui: tuple[str, str]
) -> None:
    _, tracking_uri = mlflow_ui
    # The link start.sh prints: the registered model, no click needed to get there.
    page.goto("/#/models/fusion")
    version = page.get_by_role("link", name="Version 2")
    expect(version).to_be_visible()
    screenshot(page, "mlflow-registry")
    row = page.locator("[role=row]", has=version)
    header = [cell.strip() for cell in page.locator("[role=columnheader]").all_inner_texts()]
    aliases = header.index("Aliases")
    # Aliases column of the Version 2 row: Add, type production, Enter, Save aliases.
    row.locator("[role=cell]").nth(aliases).get_by_role("button", name="Add").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Add/Edit alias for model version 2")
    dialog.get_by_role("combobox").fill("production")
    page.keyboard.press("Enter")
    expect(dialog).to_contain_text('The "production" alias is also being used on version 1')
    screenshot(page, "mlflow-promote")
    with page.expect_response(lambda response: "registered-models/alias" in response.url) as saved:
        dialog.get_by_role("button", name="Save aliases").click()
    assert saved.value.ok, saved.value.text()
    expect(dialog).to_be_hidden()
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    assert str(client.get_model_version_by_alias("fusion", "production").version) == "2"
    page.reload()
    expect(
        page.locator("[role=row]", has=page.get_by_role("link", name="Version 2"))
    ).to_contain_text("production")
