"""Write an output folder atomically: into a temporary sibling folder, then rename it."""

import logging
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

logger = logging.getLogger(__name__)


class OutputExistsError(FileExistsError):
    """The output folder exists already and overwriting was not asked for."""


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
        OutputExistsError: ``output_dir`` exists and ``overwrite`` is false.
    """
    output_dir = Path(output_dir)
    if output_dir.exists() and not (overwrite and output_dir.is_dir()):
        kind = "folder" if output_dir.is_dir() else "file"
        raise OutputExistsError(
            f"Output {kind} {output_dir} exists already: choose another output folder, "
            f"remove it, or ask to overwrite it (--overwrite)."
        )
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}.", dir=output_dir.parent))
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
