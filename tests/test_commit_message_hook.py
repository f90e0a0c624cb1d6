"""Tests of the commit-msg hook (scripts/hooks/check_commit_message.py).

The hook lives outside both workspace members, so it is loaded from its path.
"""

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from product_classifier.paths import REPOSITORY_ROOT

HOOK_PATH = REPOSITORY_ROOT / "scripts" / "hooks" / "check_commit_message.py"


def _load_hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_commit_message", HOOK_PATH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hook = _load_hook()


@pytest.mark.parametrize(
    "message",
    [
        "feat: add the fusion model",
        "fix(api): return 422 on a PNG upload",
        "feat(datascience)!: rename the model input columns",
        "refactor(backend/app): split the settings module",
        "docs(readme.md): describe the two commands",
        "ci: run the tests on pull requests\n\nLonger body.\n\nRefs: #2",
        "chore(deps): bump mlflow\n",
        "test: cover the hook",
        "build: lock the workspace",
        "perf: batch the image predictions",
        "style: format",
        "revert: feat: add the fusion model",
    ],
)
def test_accepts_conventional_headers(message: str) -> None:
    assert hook.is_conventional(message)


@pytest.mark.parametrize(
    "message",
    [
        "",
        "\n",
        "Add the fusion model",
        "feat add the fusion model",
        "feat:add the fusion model",
        "feat: ",
        "feature: add the fusion model",
        "Feat: add the fusion model",
        "feat(): add the fusion model",
        "feat(api) : add the fusion model",
        "feat(api): ",
        "wip",
    ],
)
def test_rejects_other_headers(message: str) -> None:
    assert not hook.is_conventional(message)


def test_comment_lines_are_ignored() -> None:
    message = (
        "# Please enter the commit message for your changes.\n"
        "# Lines starting with '#' will be ignored.\n"
        "fix(hooks): ignore git's comment lines\n"
    )
    assert hook.is_conventional(message)


def test_message_made_of_comments_only_is_rejected() -> None:
    assert not hook.is_conventional("# nothing but a comment\n# and another\n")


def test_comment_line_cannot_smuggle_a_valid_header() -> None:
    assert not hook.is_conventional("# feat: looks valid\nbad header\n")


@pytest.mark.parametrize(
    "message",
    [
        "Merge branch 'feature/x' into main",
        "Merge pull request #12 from someone/branch",
        'Revert "feat: add the fusion model"',
        "fixup! feat: add the fusion model",
        "squash! fix(api): something",
    ],
)
def test_git_generated_messages_are_allowed(message: str) -> None:
    assert hook.is_conventional(message)


def test_main_reads_the_message_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "GOOD_MSG"
    good.write_text("feat(ci): add the workflow\n", encoding="utf-8")
    bad = tmp_path / "BAD_MSG"
    bad.write_text("added stuff\n", encoding="utf-8")

    assert hook.main(["check_commit_message.py", str(good)]) == 0
    assert capsys.readouterr().err == ""
    assert hook.main(["check_commit_message.py", str(bad)]) == 1
    assert "Conventional Commits" in capsys.readouterr().err


def test_hook_runs_as_a_script(tmp_path: Path) -> None:
    message_file = tmp_path / "COMMIT_EDITMSG"
    message_file.write_text("wrong message\n", encoding="utf-8")
    rejected = subprocess.run(
        [sys.executable, str(HOOK_PATH), str(message_file)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert rejected.returncode == 1
    assert "Allowed types" in rejected.stderr

    message_file.write_text("fix: right message\n", encoding="utf-8")
    accepted = subprocess.run([sys.executable, str(HOOK_PATH), str(message_file)], check=False)
    assert accepted.returncode == 0
