"""Find the image of each row: a local path as is, a URI fetched with fsspec.

The model reads images from local paths. Rows whose image is a URI (``s3a://``, ``hdfs://``,
``gs://``...) are fetched into a temporary folder first, with whatever fsspec implementation
the URI's scheme needs (``s3fs`` for S3, ``pyarrow`` for HDFS), installed where the rows are
scored (the executors, on a Spark cluster). A missing file or a failed fetch is the row's error.
"""

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import fsspec

LOCAL_SCHEMES = frozenset({"", "file"})


@dataclass(frozen=True, slots=True)
class ImageLookup:
    """Where the model can read one row's image, or why it cannot.

    Attributes:
        path: Local file to read (``""`` when the row has no image or it was not found).
        error: Why the image cannot be read (``None`` when it can, or when there is none).
    """

    path: str = ""
    error: str | None = None


def is_uri(location: str) -> bool:
    """Tell whether ``location`` names a file through a URI scheme other than ``file``."""
    return urlparse(location).scheme.lower() not in LOCAL_SCHEMES and "://" in location


def local_path(location: str) -> Path:
    """Return the local file a path or ``file://`` URI names."""
    parsed = urlparse(location)
    return Path(parsed.path) if parsed.scheme.lower() == "file" else Path(location)


def _fetch(location: str, folder: Path, row: int) -> ImageLookup:
    suffix = Path(urlparse(location).path).suffix or ".jpg"
    target = folder / f"{row}{suffix}"
    try:
        with fsspec.open(location, "rb") as source:
            target.write_bytes(source.read())
    except (OSError, ValueError, ImportError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return ImageLookup(error=f"image {location} cannot be read: {reason}")
    return ImageLookup(path=str(target))


def _find_local(location: str) -> ImageLookup:
    path = local_path(location)
    if not path.is_file():
        return ImageLookup(error=f"image not found: {path}")
    return ImageLookup(path=str(path))


@contextmanager
def located_images(locations: Sequence[str]) -> Iterator[list[ImageLookup]]:
    """Make every image of a batch readable by the model, for the duration of the block.

    Args:
        locations: One path or URI per row (``""``: the row has no image).

    Yields:
        One :class:`ImageLookup` per row; fetched files live until the block ends.
    """
    with tempfile.TemporaryDirectory(prefix="catalogue-images-") as temporary:
        folder = Path(temporary)
        lookups = []
        for row, location in enumerate(locations):
            if not location:
                lookups.append(ImageLookup())
            elif is_uri(location):
                lookups.append(_fetch(location, folder, row))
            else:
                lookups.append(_find_local(location))
        yield lookups
