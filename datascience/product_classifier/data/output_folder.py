"""Write an output folder atomically: into a temporary sibling folder, then rename it.

An output folder never replaces what must survive: the repository, the state folder
(``STATE_DIR``), the home folder or an input of the command (nor a folder holding one), so an
empty ``--output-dir "$UNSET"`` (the repository root) or ``--output-dir .`` cannot delete them.
"""

import logging
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from product_classifier.paths import REPOSITORY_ROOT
from product_classifier.settings import get_platform_settings

logger = logging.getLogger(__name__)


class OutputFolderError(OSError):
    """The output folder cannot be written where it was asked for."""


class OutputExistsError(OutputFolderError, FileExistsError):
    """The output folder exists already and overwriting was not asked for."""


class OutputWouldReplaceError(OutputFolderError):
    """The output folder is, or holds, a folder that must survive the command."""


def _kept_folders(inputs: Iterable[Path]) -> list[tuple[Path, str]]:
    """The folders an output folder must not be nor hold, with what they are."""
    kept = [(Path(folder), f"the input folder {folder}") for folder in inputs]
    return [
        *kept,
        (REPOSITORY_ROOT, f"the repository {REPOSITORY_ROOT}"),
        (get_platform_settings().STATE_DIR, "the state folder (STATE_DIR)"),
        (Path.home(), "the home folder"),
    ]


def check_replaceable(output_dir: Path, inputs: Iterable[Path] = ()) -> None:
    """Refuse an output folder that is, or holds, a folder the command must not replace.

    Args:
        output_dir: The output folder asked for (relative paths from the current folder).
        inputs: The command's input folders.

    Raises:
        OutputWouldReplaceError: ``output_dir`` is or holds the repository, ``STATE_DIR``, the
            home folder or one of ``inputs``.
    """
    output = Path(output_dir).resolve()
    for folder, what in _kept_folders(inputs):
        resolved = folder.resolve()
        if output == resolved or output in resolved.parents:
            raise OutputWouldReplaceError(
                f"The output folder {str(output_dir) or '(empty)'} ({output}) would replace "
                f"{what}: choose an output folder of its own, outside every input folder "
                "(a new folder under var/, say)."
            )


def check_output_folder(output_dir: Path, inputs: Iterable[Path] = ()) -> None:
    """Refuse an output folder a job keeps writing into (a training's) before any work.

    Args:
        output_dir: The output folder asked for.
        inputs: The job's input folders.

    Raises:
        OutputFolderError: ``output_dir`` is a file, or is (or holds) a folder the job must not
            write into (:func:`check_replaceable`).
    """
    if Path(output_dir).is_file():
        raise OutputFolderError(
            f"Output {output_dir} is a file, not a folder: choose another output folder."
        )
    check_replaceable(output_dir, inputs)


def describe_os_error(error: OSError) -> str:
    """What went wrong and on which path, in a few words (``File exists: /tmp/a``)."""
    if error.strerror and error.filename:
        return f"{error.strerror}: {error.filename}"
    return str(error)


@contextmanager
def atomic_output_dir(
    output_dir: Path, *, overwrite: bool = False, inputs: Iterable[Path] = ()
) -> Iterator[Path]:
    """Yield a temporary folder that becomes ``output_dir`` only if the block succeeds.

    The temporary folder is created beside ``output_dir`` (same file system, so the final rename
    is atomic) and removed if the block raises: no half-written output is ever left behind.

    Args:
        output_dir: The folder to create.
        overwrite: Replace an existing ``output_dir`` (only once the new one is complete).
        inputs: The command's input folders, which ``output_dir`` must not be nor hold.

    Yields:
        The temporary folder to write into.

    Raises:
        OutputWouldReplaceError: ``output_dir`` is or holds a folder that must survive
            (:func:`check_replaceable`).
        OutputExistsError: ``output_dir`` exists and ``overwrite`` is false, or it is a file.
        OutputFolderError: ``output_dir`` cannot be created (a parent is a file, no such
            place, no permission).
    """
    check_replaceable(output_dir, inputs)
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
