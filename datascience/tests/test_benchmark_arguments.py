"""The benchmarks' options: a help text with its default each, bad values an argparse error line.

Only the parsers run (``--help`` and refused values): no benchmark is measured.
"""

import argparse
import subprocess
import sys
from pathlib import Path

import pytest
from benchmarks import (
    bench_create_datasets,
    bench_predict,
    bench_score_catalogue,
    bench_serving_process,
    compare_models_generated,
    compare_text_baseline,
)

DATASCIENCE = Path(__file__).resolve().parents[1]
BACKEND = DATASCIENCE.parent / "backend"

PARSERS = {
    "bench_create_datasets": bench_create_datasets.build_parser,
    "bench_predict": bench_predict.build_parser,
    "bench_score_catalogue": bench_score_catalogue.build_parser,
    "bench_serving_process": bench_serving_process.build_parser,
    "compare_models_generated": compare_models_generated.build_parser,
    "compare_text_baseline": compare_text_baseline.build_parser,
}


def _options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [action for action in parser._actions if action.option_strings and action.dest != "help"]


@pytest.mark.parametrize("name", PARSERS)
def test_every_option_has_a_help_with_its_default(name) -> None:
    parser = PARSERS[name]()
    for action in _options(parser):
        assert action.help, f"{name} {action.option_strings[0]} has no help"
        is_flag = action.nargs == 0 and not isinstance(action, argparse.BooleanOptionalAction)
        if not is_flag:
            described = "default" in action.help or "required" in action.help
            assert described, f"{name} {action.option_strings[0]}: no default in its help"
        unbounded = action.type in {int, float}
        assert not unbounded, f"{name} {action.option_strings[0]} takes any number"


@pytest.mark.parametrize(
    ("name", "arguments", "message"),
    [
        ("bench_create_datasets", ["--n-products", "0"], "--n-products: 0 must be at least 1"),
        ("bench_create_datasets", ["--repeats", "0"], "--repeats: 0 must be at least 1"),
        ("bench_create_datasets", ["--workers", "-1"], "--workers: -1 must be at least 1"),
        ("bench_create_datasets", ["--image-size", "x"], "--image-size: 'x' is not an integer"),
        ("compare_models_generated", ["--n-products", "0"], "--n-products: 0 must be at least 1"),
        ("compare_models_generated", ["--image-size", "8"], "--image-size: 8 must be at least 32"),
        ("compare_models_generated", ["--epochs", "0"], "--epochs: 0 must be at least 1"),
        ("compare_models_generated", ["--seed", "-1"], "--seed: -1 must be at least 0"),
        ("bench_predict", ["--repeats", "0"], "--repeats: 0 must be at least 1"),
        ("bench_predict", ["--batch-rows", "0"], "--batch-rows: 0 must be at least 1"),
        ("bench_score_catalogue", ["--products", "0"], "--products: 0 must be at least 1"),
        ("bench_score_catalogue", ["--warm-rows", "0"], "--warm-rows: 0 must be at least 1"),
        (
            "bench_serving_process",
            ["--model-uri", "m", "--dataset", ".", "--predictions", "-1"],
            "--predictions: -1 must be at least 0",
        ),
    ],
)
def test_bad_values_are_refused_by_the_parser(capsys, name, arguments, message) -> None:
    with pytest.raises(SystemExit) as exited:
        PARSERS[name]().parse_args(arguments)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--folds", "1"], "--folds: 1 must be at least 2"),
        (["--repeats", "0"], "--repeats: 0 must be at least 1"),
        (["--holdout-fraction", "1"], "--holdout-fraction: expected a number between 0 and 1"),
        (["--dropout", "1"], "--dropout: 1 must be at least 0 and below 1"),
        (["--learning-rate", "0"], "--learning-rate: 0 must be above 0"),
        (["--l2", "-1"], "--l2: -1 must be at least 0"),
        (["--label-smoothing", "nan"], "--label-smoothing: nan is not a finite number"),
        (["--threads", "0"], "--threads: 0 must be at least 1"),
    ],
)
def test_compare_text_baseline_refuses_bad_values(capsys, arguments, message) -> None:
    with pytest.raises(SystemExit) as exited:
        compare_text_baseline.parse_args(arguments)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def _run(
    folder: Path, module: str, arguments: list[str], home: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *arguments],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(home), "MLFLOW_DISABLE_TELEMETRY": "true"},
    )


@pytest.mark.parametrize(
    ("module", "arguments", "message"),
    [
        ("benchmarks.bench_create_datasets", ["--n-products", "0"], "0 must be at least 1"),
        (
            "benchmarks.bench_create_datasets",
            ["--n-products", "60", "--repeats", "0"],
            "0 must be at least 1",
        ),
        (
            "benchmarks.compare_models_generated",
            ["--n-products", "0", "--work-dir", "unused"],
            "0 must be at least 1",
        ),
    ],
)
def test_the_reported_commands_end_with_one_line(tmp_path, module, arguments, message) -> None:
    result = _run(DATASCIENCE, module, arguments, tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].endswith(message)
    assert not (DATASCIENCE / "unused").exists()


BACKEND_BENCHMARKS = [
    ("bench_api", ["--requests", "0"]),
    ("bench_api_startup", ["--rounds", "0"]),
    ("bench_batch_memory", ["--ready-timeout", "0"]),
    ("bench_image_store", ["--images", "0"]),
    ("bench_shadow", ["--concurrency", "1", "0"]),
    ("bench_telemetry", ["--batches", "0"]),
]


@pytest.mark.skipif(not BACKEND.is_dir(), reason="no backend/ beside datascience/")
@pytest.mark.parametrize(("name", "bad"), BACKEND_BENCHMARKS)
def test_backend_benchmarks_describe_and_check_their_options(tmp_path, name, bad) -> None:
    shown = _run(BACKEND, f"benchmarks.{name}", ["--help"], tmp_path)
    assert shown.returncode == 0, shown.stderr[-2000:]
    options = shown.stdout.split("options:", 1)[1]
    assert "(default: " in options
    refused = _run(BACKEND, f"benchmarks.{name}", bad, tmp_path)
    assert refused.returncode == 2
    assert "Traceback" not in refused.stderr
    assert "must be" in refused.stderr.strip().splitlines()[-1]
