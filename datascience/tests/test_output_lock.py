"""The output-folder lock: exclusive across processes, released when its holder is killed.

A child process holds the lock (``exclusive_output``) while this one tries to take it; no mock:
real processes and the operating system's locks.
"""

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from product_classifier.output_lock import OutputBusyError, OutputLockError, exclusive_output
from product_classifier.scoring.job import lock_file, lock_output

DATASCIENCE = Path(__file__).resolve().parents[1]

HOLDER = """
import sys, time
from pathlib import Path
from product_classifier.output_lock import exclusive_output
with exclusive_output(Path(sys.argv[1]), folder="out", job="training", option="--output-dir"):
    print("held", flush=True)
    time.sleep(600)
"""


@contextmanager
def held_by_child(path: Path) -> Iterator[subprocess.Popen[str]]:
    """Run a child process holding the lock ``path`` until the block ends (then kill it)."""
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)],
        cwd=DATASCIENCE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "held"
        yield child
    finally:
        child.kill()
        child.wait(timeout=60)


def _lock(path: Path) -> AbstractContextManager[None]:
    return exclusive_output(path, folder="out", job="training", option="--output-dir")


def test_a_second_holder_is_refused_at_once_with_the_holder_pid(tmp_path: Path) -> None:
    path = tmp_path / "out" / ".training.lock"
    with held_by_child(path) as child, pytest.raises(OutputBusyError) as refused, _lock(path):
        pytest.fail("the lock was taken twice")
    assert str(refused.value) == (
        f"another training is using out (pid {child.pid}?): wait for it to end or give another "
        "--output-dir"
    )


def test_a_killed_holder_does_not_block_the_next_one(tmp_path: Path) -> None:
    path = tmp_path / ".training.lock"
    with held_by_child(path) as child:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=60)
    assert path.is_file(), "a killed holder leaves its lock file"
    with _lock(path):
        assert path.read_text().strip() == str(os.getpid())
    assert not path.exists()


def test_the_lock_file_goes_when_the_body_ends_or_fails(tmp_path: Path) -> None:
    path = tmp_path / "new" / ".training.lock"
    with _lock(path):
        assert path.is_file()
    assert not path.exists()
    with pytest.raises(KeyboardInterrupt), _lock(path):
        raise KeyboardInterrupt
    assert not path.exists()
    with _lock(path):  # released
        pass


def test_a_lock_that_cannot_be_created_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(OutputLockError) as error, _lock(tmp_path / "file" / ".training.lock"):
        pytest.fail("locked under a file")
    assert not isinstance(error.value, OutputBusyError)
    assert str(error.value).startswith("Cannot create the lock of out (File exists: ")
    assert "\n" not in str(error.value)


def test_a_scoring_lock_is_beside_its_output_and_never_read_as_a_part(tmp_path: Path) -> None:
    output = tmp_path / "scores.parquet"
    assert lock_file(str(output)) == tmp_path / "_scores.parquet.lock"
    assert lock_file(f"{output}/") == lock_file(str(tmp_path / "." / "scores.parquet"))
    with lock_output(str(output)):
        output.mkdir()
        pq.write_table(pa.table({"productid": ["1"]}), output / "part-00000.parquet")
        assert lock_file(str(output)).is_file()
        assert list(output.iterdir()) == [output / "part-00000.parquet"]
        # Even inside the folder, pyarrow would skip a name starting with "_".
        (output / "_other.lock").write_text("123\n")
        assert pq.read_table(output).num_rows == 1
    assert not lock_file(str(output)).exists()


def test_remote_outputs_are_not_locked() -> None:
    with lock_output("s3a://bucket/scores"), lock_output("s3a://bucket/scores"):
        pass
