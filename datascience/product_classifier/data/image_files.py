"""Image file jobs of dataset creation, run in worker processes (light imports only)."""

import shutil
from dataclasses import dataclass
from pathlib import Path

from product_classifier.preprocessing.image import (
    ImageDecodingError,
    load_rgb_image,
    optimise_image,
    save_jpeg,
)


@dataclass(frozen=True)
class ImageFileTask:
    """Read ``source``; write it optimised to ``size`` (or copied as is when ``size`` is None).

    Attributes:
        source: The original image file.
        destination: The file to write.
        size: Side of the optimised square image, or ``None`` to copy the original bytes
            (after checking that they decode).
    """

    source: str
    destination: str
    size: int | None


def process_image_file(task: ImageFileTask) -> str | None:
    """Run one image job.

    Args:
        task: What to read and write.

    Returns:
        ``None`` on success, or the file name and why it could not be read.
    """
    try:
        image = load_rgb_image(Path(task.source))
    except ImageDecodingError as error:
        return f"{Path(task.source).name} ({error.reason})"
    if task.size is None:
        shutil.copyfile(task.source, task.destination)
    else:
        save_jpeg(optimise_image(image, task.size), Path(task.destination))
    return None
