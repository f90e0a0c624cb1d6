"""Two jobs on one output folder: the second is refused at once, in one line, with status 2.

The CLIs run in real processes (``python -m scripts...``); the first job is either this test
process holding the folder's lock, a killed process that held it, or (slow) a real training
started at the same moment.
"""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from product_classifier.output_lock import EXIT_OUTPUT_BUSY, exclusive_output
from product_classifier.scoring.job import lock_output
from product_classifier.training.checkpoints import RunFiles
from tests.test_output_lock import held_by_child

DATASCIENCE = Path(__file__).resolve().parents[2]


def _environment(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}",
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }


def _start(tmp_path: Path, module: object, *argv: object) -> subprocess.Popen[str]:
    """Start ``python -m scripts.<module> <argv>`` in ``datascience/``."""
    return subprocess.Popen(
        [sys.executable, "-m", f"scripts.{module}", *map(str, argv)],
        cwd=DATASCIENCE,
        env=_environment(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _run(tmp_path: Path, module: object, *argv: object) -> tuple[int, str, str]:
    process = _start(tmp_path, module, *argv)
    out, err = process.communicate(timeout=900)
    return process.returncode, out, err


def _train(kind: str, output: Path, input_dir: Path) -> list[object]:
    return [f"train_{kind}_model", "--input-dir", input_dir, "--output-dir", output]


@pytest.mark.parametrize("kind", ["text", "image", "fusion"])
def test_a_training_into_a_folder_in_use_is_refused_before_any_work(
    kind: str, tmp_path: Path
) -> None:
    output = tmp_path / "training"
    missing = tmp_path / "no-dataset"  # read only after the lock: status 1 if it came first
    with exclusive_output(
        RunFiles(output).lock, folder=output, job="training", option="--output-dir"
    ):
        status, out, err = _run(tmp_path, *_train(kind, output, missing))
        assert [path.name for path in output.iterdir()] == [".training.lock"]
    assert status == EXIT_OUTPUT_BUSY, err
    assert out == ""
    assert err == (
        f"error: another training is using {output} (pid {os.getpid()}?): wait for it to end or "
        "give another --output-dir\n"
    )
    assert not (tmp_path / "mlflow.db").exists(), "no tracking store was opened"


def test_a_scoring_job_into_a_folder_in_use_is_refused_before_any_work(tmp_path: Path) -> None:
    output = tmp_path / "scores.parquet"
    argv = ["--model-uri", "models:/fusion/1", "--input-dir", tmp_path / "no-catalogue"]
    for engine in ("local", "spark"):
        with lock_output(str(output)):
            status, out, err = _run(
                tmp_path, "score_catalogue", *argv, "--output", output, "--engine", engine
            )
        assert status == EXIT_OUTPUT_BUSY, err
        assert out == ""
        assert err == (
            f"error: another scoring job is using {output} (pid {os.getpid()}?): wait for it to "
            "end or give another --output\n"
        )
        assert not output.exists()
        assert not (tmp_path / "mlflow.db").exists(), "no tracking store was opened"


def test_a_killed_training_does_not_block_the_next_one(tmp_path: Path) -> None:
    output = tmp_path / "training"
    with held_by_child(RunFiles(output).lock) as holder:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=60)
    assert RunFiles(output).lock.is_file()

    status, _, err = _run(tmp_path, *_train("text", output, tmp_path / "no-dataset"))
    # Past the lock: the dataset is read, and refused (it does not exist).
    assert status == 1, err
    assert "another training" not in err
    assert "no-dataset" in err.splitlines()[-1]
    assert not RunFiles(output).lock.exists()


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_two_text_trainings_started_together_one_trains_the_other_is_refused(
    dataset: Path, tmp_path: Path
) -> None:
    output = tmp_path / "training"
    argv = [*_train("text", output, dataset), "--epochs", 1, "--no-word-vectors"]
    first, second = _start(tmp_path, *argv), _start(tmp_path, *argv)
    answers = [(process, *process.communicate(timeout=1500)) for process in (first, second)]
    statuses = sorted(process.returncode for process, _, _ in answers)
    assert statuses == [0, EXIT_OUTPUT_BUSY], [err[-2000:] for _, _, err in answers]
    (winner, out, _), (_, _, refused) = sorted(answers, key=lambda answer: answer[0].returncode)
    assert "text model registered as models:/text/1" in out
    assert refused.startswith(f"error: another training is using {output} (pid {winner.pid}?)")
    assert len(refused.splitlines()) == 1, refused
    assert not RunFiles(output).lock.exists()
