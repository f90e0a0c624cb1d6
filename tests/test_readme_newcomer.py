"""The README, followed as a newcomer does: its command blocks are the tested truth.

A copy of the working tree (a fresh clone: no ``.venv``, no ``var/``) beside the real sample,
a new home folder and a PATH without uv, as on a machine that has only Python 3.11. Then:

1. ``./scripts/start.sh`` as a background job (so with SIGINT ignored), with a tiny demo
   bootstrap: it installs uv where uv's installer puts it, the environment, the demo model.
2. A **new** interactive shell (it reads the ``.bashrc`` that start.sh's uv set-up wrote) runs
   the README's marked command blocks in order (:mod:`tests.helpers.readme`): the curl session,
   the datascience how-tos on the real sample (trainings shortened by the markers' ``faster``
   arguments), the promotion and the ``mlflow models serve`` example, in a second new shell.
   Each block must succeed, and print what the README shows.
3. SIGTERM stops start.sh; a second start reuses everything and stops on Ctrl-C.

The README's ports (8000, 5000, 5002) become free ports. The test prints the first and second
start times, the promotion delay and the load average (``pytest -s``).
"""

import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pytest

from product_classifier.paths import REAL_SAMPLE_DIR, REPOSITORY_ROOT
from tests.helpers.readme import Block, read_blocks, unmatched_lines, with_ports
from tests.test_start_script import free_port, kill_session, session_processes, working_tree_files

pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]

SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
"""A login shell's PATH, without the test session's tools (uv, the project's environment)."""
FIRST_START_TIMEOUT = 1200.0
BLOCK_TIMEOUT = 900.0
SERVE_TIMEOUT = 300.0
STOP_TIMEOUT = 90.0
DONE = "__NEWCOMER_BLOCK_DONE__"
FAILED = "__NEWCOMER_COMMAND_FAILED__"


def _cache_dir(tool: list[str], fallback: Path) -> str:
    """The caller's cache folder of uv or pip, shared so the new home downloads nothing twice."""
    try:
        return subprocess.run(tool, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return str(fallback)


def newcomer_environment(home: Path) -> dict[str, str]:
    """What a new user's shell has: a home, a PATH, a shell; nothing from this test session."""
    environment = {
        "HOME": str(home),
        "PATH": SYSTEM_PATH,
        "SHELL": "/bin/bash",
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "UV_CACHE_DIR": _cache_dir(
            [shutil.which("uv") or "uv", "cache", "dir"], Path.home() / ".cache" / "uv"
        ),
        "PIP_CACHE_DIR": str(Path.home() / ".cache" / "pip"),
        "PYTHONUNBUFFERED": "1",
    }
    for name, value in os.environ.items():
        # The machine's package index, proxy and certificate settings, as its users have them.
        if name not in environment and (
            name.startswith("PIP_") or re.search("CERT|CA_BUNDLE|PROXY|SSL", name, re.IGNORECASE)
        ):
            environment[name] = value
    return environment


def fresh_clone(root: Path) -> Path:
    """The working tree as a clone has it, beside the real sample (``../shared``)."""
    clone = root / "repository"
    for relative in working_tree_files():
        target = clone / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        source = REPOSITORY_ROOT / relative
        shutil.copy2(source, target)
    (root / "shared").symlink_to(REAL_SAMPLE_DIR.parent.parent)
    return clone


def port_answers(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:port."""
    with socket.socket() as probe:
        probe.settimeout(1.0)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def load_average() -> str:
    """The 1, 5 and 15-minute load averages, for the printed figures."""
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


@dataclass
class StartScript:
    """A running ``./scripts/start.sh``."""

    process: subprocess.Popen[bytes]
    log: Path
    started: float

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def tail(self, lines: int = 80) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    def wait_ready(self, timeout: float) -> float:
        """Wait for the ready message; return the seconds it took."""
        deadline = time.monotonic() + timeout
        while "Press Ctrl-C to stop." not in self.output():
            assert self.process.poll() is None, f"start.sh exited early:\n{self.tail()}"
            assert time.monotonic() < deadline, f"start.sh not ready in time:\n{self.tail()}"
            time.sleep(1.0)
        return time.monotonic() - self.started

    def stop(self, signal_number: int) -> None:
        """Send a signal to start.sh alone; it must stop everything and exit 0."""
        self.process.send_signal(signal_number)
        status = self.process.wait(timeout=STOP_TIMEOUT)
        assert status == 0, self.tail()
        deadline = time.monotonic() + 15
        while session_processes(self.process.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert session_processes(self.process.pid) == [], self.tail()


def start_in_background(clone: Path, environment: dict[str, str], log: Path) -> StartScript:
    """``./scripts/start.sh > log 2>&1 &`` from a script: SIGINT ignored, as bash does."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            ["bash", "-c", "trap '' INT; exec ./scripts/start.sh"],
            cwd=clone,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return StartScript(process, log, time.monotonic())


@dataclass
class NewShell:
    """An interactive bash, as a new terminal opens one, fed the README's blocks one by one."""

    process: subprocess.Popen[str]
    stderr: Path
    lines: "queue.Queue[str]" = field(default_factory=queue.Queue)

    @classmethod
    def open(cls, cwd: Path, environment: dict[str, str], stderr: Path) -> "NewShell":
        with stderr.open("w") as errors:
            process = subprocess.Popen(
                ["bash", "-i"],
                cwd=cwd,
                env=environment,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
                start_new_session=True,
            )
        shell = cls(process, stderr)
        threading.Thread(target=shell._read, args=(process.stdout,), daemon=True).start()
        # Every command that fails inside a block says so (conditions of if/until excepted).
        shell.run(f'trap \'printf "{FAILED} %s\\n" "$?"\' ERR', timeout=30)
        return shell

    def _read(self, stream: IO[str] | None) -> None:
        assert stream is not None
        for line in stream:
            self.lines.put(line)

    def run(self, code: str, timeout: float = BLOCK_TIMEOUT) -> tuple[int, str]:
        """Run a block; return the status of its last command and everything it printed."""
        assert self.process.stdin is not None
        self.process.stdin.write(f"{code}\nprintf '\\n{DONE} %s\\n' \"$?\"\n")
        self.process.stdin.flush()
        output: list[str] = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                errors = self.stderr.read_text(errors="replace")[-3000:]
                pytest.fail(
                    f"block still running after {timeout} s:\n{code}\n{''.join(output)}{errors}"
                )
            if line.startswith(DONE):
                return int(line.split()[1]), "".join(output)
            output.append(line)

    def close(self) -> None:
        if self.process.poll() is None:
            kill_session(self.process.pid)
        self.process.wait(timeout=30)


@pytest.fixture
def newcomer(tmp_path: Path) -> tuple[Path, dict[str, str], dict[int, int]]:
    """A fresh clone, a new home, and the ports replacing the README's."""
    if not REAL_SAMPLE_DIR.is_dir():
        pytest.skip(f"The README's real-data recipe needs the real sample ({REAL_SAMPLE_DIR})")
    clone = fresh_clone(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    ports = {8000: free_port(), 5000: free_port(), 5002: free_port()}
    environment = newcomer_environment(home)
    return clone, environment, ports


def test_readme_works_as_written_for_a_newcomer(
    newcomer: tuple[Path, dict[str, str], dict[int, int]], tmp_path: Path
) -> None:
    clone, environment, ports = newcomer
    start_environment = {
        **environment,
        "BACKEND_PORT": str(ports[8000]),
        "MLFLOW_PORT": str(ports[5000]),
        "DEMO_PRODUCTS": "120",
        "DEMO_EPOCHS": "1",
        "DEMO_IMAGE_SIZE": "32",
    }
    shells: list[NewShell] = []
    runs: list[StartScript] = []
    first = start_in_background(clone, start_environment, tmp_path / "start-1.log")
    runs.append(first)
    try:
        first_seconds = first.wait_ready(FIRST_START_TIMEOUT)
        output = first.output()
        assert "Installing uv into" in output, output
        assert (environment["HOME"] + "/.local/bin") in output, "where uv went"
        assert "Note: uv is in" in output, "the ready message says how to reach uv"

        shell = NewShell.open(clone, environment, tmp_path / "shell.stderr")
        shells.append(shell)
        status, where = shell.run("command -v uv")
        assert (status, where.strip()) == (0, f"{environment['HOME']}/.local/bin/uv"), where

        promotion_seconds = None
        for block in read_blocks(clone / "README.md"):
            if block.action == "skip":
                continue
            command = with_ports(block.command(), ports)
            if block.action == "background":
                shells.append(
                    _serve(block, command, clone, environment, tmp_path=tmp_path, ports=ports)
                )
                continue
            began = time.monotonic()
            status, printed = shell.run(command)
            if "models/current" in command:
                promotion_seconds = time.monotonic() - began
            assert FAILED not in printed, f"{command}\n---\n{printed}"
            assert status == 0, f"{command}\n---\n{printed}"
            if block.expected is not None:
                missing = unmatched_lines(with_ports(block.expected, ports), printed)
                assert missing == [], f"{command}\n--- printed:\n{printed}\n--- missing: {missing}"

        first.stop(signal.SIGTERM)
        second = start_in_background(clone, start_environment, tmp_path / "start-2.log")
        runs.append(second)
        second_seconds = second.wait_ready(FIRST_START_TIMEOUT)
        assert "no demo model needed" in second.output(), second.tail()
        assert "Installing uv" not in second.output()
        # Started with SIGINT ignored too: Ctrl-C (SIGINT to start.sh) must still stop it.
        second.stop(signal.SIGINT)
        print(
            f"\nnewcomer: first start {_ready(first)} ({first_seconds:.0f} s measured), second "
            f"start {_ready(second)} ({second_seconds:.0f} s), promotion served after "
            f"{promotion_seconds:.0f} s; load average {load_average()}"
        )
    finally:
        for shell in shells:
            shell.close()
        for run in runs:
            if run.process.poll() is None:
                kill_session(run.process.pid)
                run.process.wait(timeout=30)


def _ready(run: StartScript) -> str:
    found = re.search(r"Ready in (\d+) s\.", run.output())
    return f"ready in {found[1]} s" if found else "ready"


def _serve(
    block: Block,
    command: str,
    clone: Path,
    environment: dict[str, str],
    *,
    tmp_path: Path,
    ports: dict[int, int],
) -> NewShell:
    """Run a background block in a second new shell until its port answers."""
    second = NewShell.open(clone, environment, tmp_path / "second-shell.stderr")
    assert second.process.stdin is not None
    second.process.stdin.write(command + "\n")
    second.process.stdin.flush()
    port = ports.get(block.port or 0, block.port)
    assert port is not None, "a background block names the port it serves on"
    deadline = time.monotonic() + SERVE_TIMEOUT
    while not port_answers(port):
        assert second.process.poll() is None, second.stderr.read_text(errors="replace")[-3000:]
        if time.monotonic() > deadline:
            pytest.fail(f"nothing answers on port {port}:\n{second.stderr.read_text()[-3000:]}")
        time.sleep(1.0)
    return second
