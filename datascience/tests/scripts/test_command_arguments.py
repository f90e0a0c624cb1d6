"""Arguments a command cannot use are refused when it starts (argparse: one line, status 2).

A gate switched off by ``--min-gain nan``, an image side the model cannot read, a weights file
that does not exist: each was found only later (or never), after minutes of other work.
"""

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scripts import (
    bootstrap_demo,
    create_datasets,
    evaluate_challenger,
    export_feedback_dataset,
    make_sample_dataset,
    promote_model,
    score_catalogue,
    train_image_model,
)


def _usage_error(main, argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    return capsys.readouterr().err.strip().splitlines()[-1]


@pytest.mark.parametrize("gain", ["nan", "inf", "-inf", "abc"])
def test_the_promotion_gate_takes_only_a_finite_gain(gain, capsys) -> None:
    argv = ["--name", "fusion", "--version", "2", "--alias", "production", "--gate"]
    line = _usage_error(promote_model.main, [*argv, "--min-gain", gain], capsys)
    assert "--min-gain" in line


@pytest.mark.parametrize("version", ["0", "-1", "2147483648", "99999999999999999999", "1.5"])
def test_a_promoted_version_is_one_the_registry_can_hold(version, capsys) -> None:
    argv = ["--name", "fusion", "--version", version, "--alias", "production"]
    line = _usage_error(promote_model.main, argv, capsys)
    assert line.startswith("python -m scripts.promote_model: error: argument --version")


@pytest.mark.parametrize("side", ["1", "31", "1025", "100000", "-3"])
def test_the_demo_image_side_is_one_the_model_can_read(side, capsys) -> None:
    line = _usage_error(bootstrap_demo.main, ["--image-size", side], capsys)
    assert "--image-size" in line


def test_the_demo_settings_are_checked_the_same_way(monkeypatch, capsys) -> None:
    monkeypatch.setenv("DEMO_IMAGE_WEIGHTS", "/nonexistent.weights.h5")
    line = _usage_error(bootstrap_demo.main, ["--check-only"], capsys)
    assert "neither 'imagenet', 'none' nor a weights file" in line


@pytest.mark.parametrize("main", [bootstrap_demo.main, train_image_model.main])
def test_a_weights_file_that_does_not_exist_is_refused_at_once(main, tmp_path, capsys) -> None:
    option = "--image-weights" if main is bootstrap_demo.main else "--weights"
    line = _usage_error(main, [option, str(tmp_path / "missing.weights.h5")], capsys)
    assert "neither 'imagenet', 'none' nor a weights file" in line


@pytest.mark.parametrize("value", ["imagenet", "NONE", " none "])
def test_the_named_weights_are_taken_in_any_case(value) -> None:
    from scripts.cli_support import backbone_weights

    assert backbone_weights(value) in {"imagenet", "none"}


def test_a_challenger_that_is_not_a_model_uri_is_an_input_error(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    from product_classifier.evaluation import replay_rows

    # The rows are not what is judged here: the URI is refused before they are replayed.
    monkeypatch.setattr(replay_rows, "dataset_test_rows", lambda folder: None)
    status = evaluate_challenger.main(["--challenger", "fusion", "--dataset", str(tmp_path)])
    assert status == 2
    assert capsys.readouterr().err.strip() == (
        "error: The challenger must be a registered version (models:/NAME/VERSION or "
        "models:/NAME@ALIAS), got 'fusion'."
    )


def test_ctrl_c_while_evaluating_is_one_line(tmp_path: Path, monkeypatch, capsys) -> None:
    from product_classifier.evaluation import replay_rows

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(replay_rows, "dataset_test_rows", interrupted)
    status = evaluate_challenger.main(
        ["--challenger", "models:/fusion/2", "--dataset", str(tmp_path)]
    )
    assert status == 130
    assert capsys.readouterr().err.strip().splitlines() == [
        "Interrupted: no evaluation was recorded; run the command again."
    ]


@pytest.mark.parametrize("count", ["0", "1000001", "999999999999"])
def test_a_sample_size_out_of_range_is_refused(count, tmp_path, capsys) -> None:
    from scripts import make_sample_dataset

    line = _usage_error(
        make_sample_dataset.main, ["--n-products", count, "--output-dir", str(tmp_path)], capsys
    )
    assert "--n-products" in line


@pytest.mark.parametrize(
    ("main", "argv", "option"),
    [
        (evaluate_challenger.main, ["--challenger", "models:/fusion/2", "--resamples"], "100001"),
        (create_datasets.main, ["--image-size"], "5000"),
        (create_datasets.main, ["--image-size"], "31"),
        (create_datasets.main, ["--workers"], "100000"),
        (make_sample_dataset.main, ["--workers"], "0"),
        (bootstrap_demo.main, ["--products"], "53"),
        (bootstrap_demo.main, ["--products"], "99999999999"),
        (score_catalogue.main, ["--model-uri", "m", "--output", "o", "--partitions"], "100001"),
    ],
)
def test_sizes_a_command_cannot_serve_are_refused_before_any_work(main, argv, option, capsys):
    # Unbounded, they ended in a MemoryError traceback or a failure steps later.
    line = _usage_error(main, [*argv, option], capsys)
    assert f"argument {argv[-1]}" in line


@pytest.mark.parametrize("url", ["mysql://root@localhost/app", "not a url", "oracle://x"])
def test_a_database_url_of_another_kind_is_one_usage_line(url, capsys) -> None:
    for main in (export_feedback_dataset.main, evaluate_challenger.main):
        argv = ["--output-dir", "out"] if main is export_feedback_dataset.main else []
        line = _usage_error(main, [*argv, "--database-url", url], capsys)
        assert "argument --database-url" in line
        assert "SQLite and PostgreSQL are the only databases supported" in line


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_a_plain_postgresql_url_is_read_with_psycopg2_as_the_setting_is(scheme) -> None:
    # The psycopg (3) driver SQLAlchemy would pick for postgresql:// is not installed.
    parser = export_feedback_dataset.build_parser()
    args = parser.parse_args(["--output-dir", "out", "--database-url", f"{scheme}://u@h:5432/app"])
    assert args.database_url == "postgresql+psycopg2://u@h:5432/app"


DATASCIENCE = Path(__file__).resolve().parents[2]


def test_sigterm_stops_a_command_as_ctrl_c_does(tmp_path: Path) -> None:
    """``kill``, ``timeout`` or a stopped CI job: the command's one Interrupted line, exit 130."""
    output = tmp_path / "sample"
    command = [sys.executable, "-m", "scripts.make_sample_dataset", "--output-dir", str(output)]
    command += ["--n-products", "200000", "--workers", "1"]
    process = subprocess.Popen(
        command, cwd=DATASCIENCE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        # Started: the folder being written appears beside the output (written, then renamed).
        deadline = time.monotonic() + 120
        while not any(tmp_path.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 130, errors
    assert errors.strip().splitlines()[-1].startswith("Interrupted:")
    assert "Traceback" not in errors
    assert not output.exists()


@pytest.mark.parametrize("kind", ["text", "image", "fusion"])
def test_a_training_never_writes_into_the_repository_its_state_home_or_input(
    kind, tmp_path: Path, capsys
) -> None:
    from product_classifier.paths import REPOSITORY_ROOT
    from product_classifier.settings import get_platform_settings
    from scripts import train_fusion_model, train_text_model

    main = {"text": train_text_model, "image": train_image_model, "fusion": train_fusion_model}
    dataset = tmp_path / "dataset"
    dataset.mkdir()
    a_file = tmp_path / "a-file"
    a_file.write_text("kept")
    state = get_platform_settings().STATE_DIR
    for output in ("", str(state), str(Path.home()), str(dataset), str(a_file)):
        status = main[kind].main(["--input-dir", str(dataset), "--output-dir", output])
        assert status == 2, output
        (line,) = capsys.readouterr().err.strip().splitlines()
        assert line.startswith("error: "), line
    assert not (REPOSITORY_ROOT / ".training.lock").exists()
    assert sorted(path.name for path in dataset.iterdir()) == []
    assert a_file.read_text() == "kept"


@pytest.mark.parametrize("name", ["a/b", "a:b", " ", "..", "."])
def test_a_registered_model_name_mlflow_refuses_is_refused_before_training(name, capsys):
    from scripts import train_text_model

    argv = ["--input-dir", "x", "--registered-model", name]
    line = _usage_error(train_text_model.main, argv, capsys)
    assert "argument --registered-model" in line


def _run_python(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a new Python process from the datascience folder, capturing its output."""
    return subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        cwd=DATASCIENCE,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_forked_workers_keep_sigterm_default_at_the_kernel_level() -> None:
    """A worker's SIGTERM is not a Python handler, which could miss it while blocking."""
    code = (
        "import multiprocessing, signal\n"
        "from scripts.cli_support import start_command\n"
        "start_command()\n"
        "with multiprocessing.get_context('fork').Pool(2) as pool:\n"
        "    seen = pool.map(signal.getsignal, [signal.SIGTERM] * 4)\n"
        "in_command = signal.getsignal(signal.SIGTERM)\n"
        "print(set(seen) == {signal.SIG_DFL}, in_command is not signal.SIG_DFL)\n"
    )
    result = _run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]


def test_forked_workers_ended_by_their_pool_end_quietly() -> None:
    """multiprocessing.Pool ends its workers with SIGTERM: no Ctrl-C traceback from them."""
    code = (
        "import multiprocessing, time\n"
        "from scripts.cli_support import start_command\n"
        "start_command()\n"
        "pool = multiprocessing.get_context('fork').Pool(2)\n"
        "pool.map(abs, range(100))\n"
        "time.sleep(0.5)\n"
        "pool.terminate()\n"
        "pool.join()\n"
        "print('done')\n"
    )
    result = _run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "done"
    assert "Traceback" not in result.stderr
    assert "KeyboardInterrupt" not in result.stderr
