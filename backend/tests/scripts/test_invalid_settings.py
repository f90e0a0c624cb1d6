"""Every command and server reading the settings stops on an invalid one with one line.

A value of the environment (or ``.env``) that does not validate ended the operator commands,
the training CLIs and the API servers with a pydantic traceback; each now prints
``error: invalid settings: NAME: what is wrong`` and exits with status 2, before any work.
"""

import pytest

from tests.helpers.cli import BACKEND_DIR, DATASCIENCE_DIR, run_python
from tests.scripts.test_ops_commands import assert_one_line_error

COMMANDS = {
    "purge images": ("backend", ["-m", "scripts.purge_images"]),
    "monitoring report": ("backend", ["-m", "scripts.monitoring_report", "--output", "r.html"]),
    "prestart": ("backend", ["-m", "scripts.prestart"]),
    "API server": ("backend", ["-m", "app.serve", "--port", "1"]),
    "uvicorn on the app": ("backend", ["-m", "uvicorn", "app.main:app", "--port", "1"]),
    "feedback export": (
        "datascience",
        ["-m", "scripts.export_feedback_dataset", "--output-dir", "x"],
    ),
    "promotion": ("datascience", ["-m", "scripts.promote_model", "--list"]),
    "demo bootstrap": ("datascience", ["-m", "scripts.bootstrap_demo", "--check-only"]),
    "text training": (
        "datascience",
        ["-m", "scripts.train_text_model", "--input-dir", "missing", "--epochs", "1"],
    ),
}
INVALID = {
    "IMAGE_STORE_RETENTION_DAYS": ("36501", "less than or equal to 36500"),
    "IMAGE_STORE_ENABLED": ("maybe", "valid boolean"),
}


@pytest.mark.parametrize("setting", list(INVALID))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_an_invalid_setting_is_one_line_and_status_2(command, setting):
    project, args = COMMANDS[command]
    value, message = INVALID[setting]
    cwd = DATASCIENCE_DIR if project == "datascience" else BACKEND_DIR
    completed = run_python(*args, cwd=cwd, env={setting: value})
    assert_one_line_error(completed, f"error: invalid settings: {setting}: ", message)


def test_an_invalid_demo_setting_is_one_line_and_status_2():
    completed = run_python(
        "-m", "scripts.bootstrap_demo", "--help", cwd=DATASCIENCE_DIR, env={"DEMO_EPOCHS": "three"}
    )
    assert_one_line_error(completed, "error: invalid settings: DEMO_EPOCHS: ", "valid integer")
