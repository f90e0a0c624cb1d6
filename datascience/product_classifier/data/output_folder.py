"""Write an output folder atomically: into a temporary sibling folder, then rename it."""

import logging
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

logger = logging.getLogger(__name__)


class OutputFolderError(OSError):
    """The output folder cannot be written where it was asked for."""


class OutputExistsError(OutputFolderError, FileExistsError):
    """The output folder exists already and overwriting was not asked for."""


def describe_os_error(error: OSError) -> str:
    """What went wrong and on which path, in a few words (``File exists: /tmp/a``)."""
    if error.strerror and error.filename:
        return f"{error.strerror}: {error.filename}"
    return str(error)


@contextmanager
def atomic_output_dir(output_dir: Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary folder that becomes ``output_dir`` only if the block succeeds.

    The temporary folder is created beside ``output_dir`` (same file system, so the final rename
    is atomic) and removed if the block raises: no half-written output is ever left behind.

    Args:
        output_dir: The folder to create.
        overwrite: Replace an existing ``output_dir`` (only once the new one is complete).

    Yields:
        The temporary folder to write into.

    Raises:
        OutputExistsError: ``output_dir`` exists and ``overwrite`` is false, or it is a file.
        OutputFolderError: ``output_dir`` cannot be created (a parent is a file, no such
            place, no permission).
    """
    output_dir = Path(output_dir)
    if output_dir.exists() and not output_dir.is_dir():
        raise OutputExistsError(
            f"Output {output_dir} is a file, not a folder: choose another output folder."
        )
    if output_dir.exists() and not overwrite:
        raise OutputExistsError(
            f"Output folder {output_dir} exists already: choose another output folder, "
            f"remove it, or ask to overwrite it (--overwrite)."
        )
    try:
        output_dir.parent.mkdir(parents=True, exist_ok=True)
        temporary = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}.", dir=output_dir.parent))
    except OSError as error:
        raise OutputFolderError(
            f"Cannot create the output folder {output_dir}: {describe_os_error(error)}."
        ) from error
    try:
        yield temporary
        temporary.chmod(0o755)
        if output_dir.exists():
            previous = Path(
                tempfile.mkdtemp(prefix=f".{output_dir.name}.old.", dir=output_dir.parent)
            )
            output_dir.rename(previous / output_dir.name)
            temporary.rename(output_dir)
            shutil.rmtree(previous, ignore_errors=True)
            logger.info("Replaced %s", output_dir)
        else:
            temporary.rename(output_dir)
    finally:
        if temporary.exists():
            shutil.rmtree(temporary, ignore_errors=True)
