"""An exclusive lock on an output folder, held for a whole job (a training, a scoring job).

Two jobs writing into one folder at the same time mix their files: a model registered with the
other run's featurizer, a Parquet output holding the parts of two models. The lock is an
operating-system lock (``flock`` on Linux and macOS, through :mod:`filelock`) on a small file
naming the holder's pid: the system releases it when its process ends, even when killed, so a
lock file left by a killed job never blocks the next one. The file is deleted when the job
ends (while still locked, so that no other process can hold the deleted file's lock).

A second job fails at once (it does not wait) with :class:`OutputBusyError`, before any work.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from filelock import FileLock, Timeout

from product_classifier.data.output_folder import describe_os_error

EXIT_OUTPUT_BUSY: Final = 2
"""Exit status of a command refused because another job is using its output folder."""


class OutputLockError(Exception):
    """The lock of an output folder cannot be taken (a message for a person)."""


class OutputBusyError(OutputLockError):
    """Another process holds the lock of the output folder (a message for a person)."""


def _write_pid(descriptor: int) -> None:
    """Record this process's pid in the lock file it has just locked (for the next one's error)."""
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, f"{os.getpid()}\n".encode("ascii"), 0)


def _holder(lock_file: Path) -> str:
    """`` (pid N?)`` for the pid recorded in a held lock file, or ``""`` when unknown."""
    try:
        text = lock_file.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return ""
    return f" (pid {text}?)" if text.isdecimal() else ""


@contextmanager
def exclusive_output(lock_file: Path, *, folder: object, job: str, option: str) -> Iterator[None]:
    """Hold the lock of an output folder for the body, or fail at once when another job has it.

    Args:
        lock_file: The lock file (its folder is created when missing).
        folder: The output folder, as the error names it.
        job: What the other holder is, for the error (``"training"``, ``"scoring job"``).
        option: The option giving another folder, for the error (``"--output-dir"``).

    Yields:
        Nothing; the lock is held until the body ends (Ctrl-C and errors included).

    Raises:
        OutputBusyError: Another process holds the lock (one line: the folder, the holder's pid
            when known, what to do).
        OutputLockError: The lock file cannot be created or locked (no permission, a file on
            the way, a file system without locks).
    """
    lock = FileLock(lock_file, timeout=0, on_acquired=_write_pid)
    try:
        lock_file.parent.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except Timeout:
        raise OutputBusyError(
            f"another {job} is using {folder}{_holder(lock_file)}: wait for it to end or give "
            f"another {option}"
        ) from None
    except OSError as error:
        raise OutputLockError(
            f"Cannot create the lock of {folder} ({describe_os_error(error)}): give another "
            f"{option}."
        ) from error
    try:
        yield
    finally:
        try:
            # Deleted before the release: a process that opened this file before it is deleted
            # gets its lock only once it is deleted, which filelock then refuses (no link left).
            lock_file.unlink(missing_ok=True)
        finally:
            lock.release()
