"""``scripts/run-tests.sh`` runs the datascience suite beside the backend's and reports both.

The script runs with a fake ``uv`` first on the PATH: every step passes at once, and each
pytest run says where it runs, records its process id, and fails or sleeps when asked to
(``apt-get`` and ``docker`` are fakes that do nothing, so that nothing is installed).
"""

import os
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest

from product_classifier.paths import REPOSITORY_ROOT
from tests.test_script_arguments import run_script

FAKE_UV = """#!/bin/sh
case "$*" in
*pytest*)
    where="$(basename "$PWD")"
    echo "pytest ran in $where"
    echo "$where $$" >>"$FAKE_UV_RECORD"
    [ "$where" != "$FAKE_FAILING_SUITE" ] || exit 1
    [ "$where" != "$FAKE_EMPTY_SUITE" ] || exit 5
    [ -z "$FAKE_PYTEST_SECONDS" ] || exec sleep "$FAKE_PYTEST_SECONDS"
    ;;
esac
exit 0
"""


def _environment(tmp_path: Path, **settings: str) -> dict[str, str]:
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    for name, script in (("uv", FAKE_UV), ("apt-get", "#!/bin/sh\n"), ("docker", "#!/bin/sh\n")):
        fake = fake_bin / name
        fake.write_text(script)
        fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    environment = {
        **os.environ,
        "PATH": f"{fake_bin}{os.pathsep}{os.environ['PATH']}",
        "FAKE_UV_RECORD": str(tmp_path / "pytest-runs"),
        "FAKE_FAILING_SUITE": "",
        "FAKE_EMPTY_SUITE": "",
        "FAKE_PYTEST_SECONDS": "",
        **settings,
    }
    environment.pop("SUITES_IN_PARALLEL", None)
    environment.update(settings)
    return environment


def _pytest_runs(tmp_path: Path) -> dict[str, int]:
    record = tmp_path / "pytest-runs"
    lines = record.read_text().splitlines() if record.exists() else []
    return {where: int(pid) for where, pid in (line.split() for line in lines)}


def _is_running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.parametrize(
    ("setting", "arguments", "parallel"),
    [("true", ("-q",), True), ("false", ("-q",), False), ("true", ("--pdb",), False)],
)
def test_a_failing_datascience_suite_is_shown_and_fails_the_run(
    tmp_path: Path, setting: str, arguments: tuple[str, ...], parallel: bool
) -> None:
    environment = _environment(
        tmp_path, FAKE_FAILING_SUITE="datascience", SUITES_IN_PARALLEL=setting
    )
    run = run_script("scripts/run-tests.sh", *arguments, environment=environment)
    assert run.status == 1, run.stderr
    assert run.stderr.strip().splitlines()[-1] == "FAILED: pytest datascience"
    assert set(_pytest_runs(tmp_path)) == {"datascience", "backend", REPOSITORY_ROOT.name}
    # Each suite's output follows its own heading, whatever ran first.
    datascience = run.stdout.index("==> pytest datascience")
    assert run.stdout.index("pytest ran in datascience") > datascience
    backend = run.stdout.index("==> pytest backend")
    assert run.stdout.index("pytest ran in backend") > backend
    assert (datascience < backend) == (not parallel)


def test_ctrl_c_stops_the_suite_running_beside_the_backend(tmp_path: Path) -> None:
    environment = _environment(tmp_path, FAKE_PYTEST_SECONDS="60")
    process = subprocess.Popen(
        ["./scripts/run-tests.sh"],
        cwd=REPOSITORY_ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "stderr").open("w"),
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while len(_pytest_runs(tmp_path)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        runs = _pytest_runs(tmp_path)
        assert set(runs) == {"datascience", "backend"}
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C sends to the terminal's job
        assert process.wait(timeout=30) == 130
        deadline = time.monotonic() + 10
        while any(map(_is_running, runs.values())) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(map(_is_running, runs.values())), runs
        errors = (tmp_path / "stderr").read_text()
        assert "The datascience suite was stopped; the end of its output:" in errors
        assert "pytest ran in datascience" in errors
    finally:
        for pid in _pytest_runs(tmp_path).values():
            if _is_running(pid):
                os.kill(pid, signal.SIGKILL)
        process.kill()


@pytest.mark.parametrize("arguments", [("-k", "no_such_test"), ()])
def test_a_suite_the_arguments_select_nothing_of_has_not_failed(
    tmp_path: Path, arguments: tuple[str, ...]
) -> None:
    # pytest's status 5 ("no tests collected") is a failure only when nothing was asked.
    environment = _environment(tmp_path, FAKE_EMPTY_SUITE="backend")
    run = run_script("scripts/run-tests.sh", *arguments, environment=environment)
    if arguments:
        assert run.status == 0, run.stderr
        assert "No test of this suite is selected by: -k no_such_test" in run.stdout
    else:
        assert run.status == 1
        assert run.stderr.strip().splitlines()[-1].startswith("FAILED: pytest backend")
