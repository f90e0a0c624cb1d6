"""A content-addressed store of product images: a local folder or any fsspec URL.

Each image is kept once, under its SHA-256 (``{root}/ab/abcdef....jpg``, the first two hex
digits as a sub-folder so that no folder grows huge). The API writes the images it is sent;
the feedback export and the administrators' image route read them back. The same store works
on a local folder, ``s3://bucket/prefix`` (with ``s3fs`` installed) or ``memory://name``
(tests), through `fsspec <https://filesystem-spec.readthedocs.io>`_.

Writes are all-or-nothing: on a local folder an image is written to a temporary file and
renamed; object stores (S3, GCS...) publish an object only once it is complete. Reads check the
digest, so a damaged file is never returned as the image.
"""

import contextlib
import hashlib
import logging
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import fsspec
from fsspec.implementations.local import LocalFileSystem

logger = logging.getLogger(__name__)

DIGEST_PATTERN: Final = re.compile(r"[0-9a-f]{64}")
SUFFIX: Final = ".jpg"
TEMPORARY_SUFFIX: Final = ".tmp"


class InvalidDigestError(ValueError):
    """A string that is not a lower-case hexadecimal SHA-256 digest."""


@dataclass(frozen=True, slots=True)
class StoredObject:
    """One file of the store: an image (``digest`` set) or a leftover temporary file."""

    path: str
    digest: str | None
    modified: datetime


def sha256_hex(data: bytes) -> str:
    """Return the lower-case hexadecimal SHA-256 of ``data`` (the store's key)."""
    return hashlib.sha256(data).hexdigest()


def _checked(digest: str) -> str:
    if not DIGEST_PATTERN.fullmatch(digest):
        raise InvalidDigestError(f"Not a SHA-256 digest: {digest!r}")
    return digest


def _modified(info: dict[str, Any]) -> datetime:
    """The last modification time in an fsspec ``info`` dict (local, memory or S3 keys)."""
    for key in ("mtime", "LastModified", "last_modified", "created", "updated", "mtime_ns"):
        value = info.get(key)
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        if isinstance(value, int | float):
            seconds = value / 1e9 if key == "mtime_ns" else value
            return datetime.fromtimestamp(seconds, UTC)
    raise ValueError(f"No modification time in {sorted(info)}")


class ImageStore:
    """Images kept once by their SHA-256 under a folder or an fsspec URL.

    Args:
        url: A local folder or an fsspec URL (``s3://bucket/prefix``, ``memory://name``).
        **storage_options: Passed to the fsspec file system (credentials, endpoint...).
    """

    def __init__(self, url: str, **storage_options: Any) -> None:
        self.url = url
        self.fs, root = fsspec.core.url_to_fs(url, **storage_options)
        self.root = root.rstrip("/")
        self._local = isinstance(self.fs, LocalFileSystem)

    def path(self, digest: str) -> str:
        """Where the image of ``digest`` lives in the store's file system.

        Raises:
            InvalidDigestError: ``digest`` is not 64 lower-case hexadecimal digits.
        """
        _checked(digest)
        return f"{self.root}/{digest[:2]}/{digest}{SUFFIX}"

    def contains(self, digest: str) -> bool:
        """Whether the image of ``digest`` is stored."""
        return bool(self.fs.exists(self.path(digest)))

    def put(self, data: bytes, digest: str | None = None) -> bool:
        """Store ``data`` under its SHA-256 unless it is there already.

        Args:
            data: The encoded image, exactly as received.
            digest: Its SHA-256 when already computed (checked against ``data``).

        Returns:
            ``True`` when the image was written, ``False`` when it was already stored.

        Raises:
            InvalidDigestError: ``digest`` is not the SHA-256 of ``data``.
            OSError: The store cannot be written (any error of the file system).
        """
        actual = sha256_hex(data)
        if digest is not None and digest != actual:
            raise InvalidDigestError(f"{digest} is not the SHA-256 of the data ({actual})")
        target = self.path(actual)
        if self.fs.exists(target):
            return False
        if self._local:
            # A temporary file renamed into place: a reader or a crash never sees half an image.
            self.fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
            temporary = f"{target}.{uuid.uuid4().hex}{TEMPORARY_SUFFIX}"
            try:
                self.fs.pipe_file(temporary, data)
                self.fs.mv(temporary, target)
            finally:
                if self.fs.exists(temporary):
                    self.fs.rm_file(temporary)
        else:
            self.fs.pipe_file(target, data)
        return True

    def get(self, digest: str) -> bytes | None:
        """Return the stored image of ``digest``; ``None`` when absent or damaged.

        Raises:
            InvalidDigestError: ``digest`` is not a SHA-256 digest.
            OSError: The store cannot be read.
        """
        path = self.path(digest)
        try:
            data: bytes = self.fs.cat_file(path)
        except FileNotFoundError:
            return None
        if sha256_hex(data) != digest:
            logger.error("Stored image %s is damaged (its content has another digest)", path)
            return None
        return data

    def delete(self, path: str) -> None:
        """Remove one file of the store (a path from :meth:`objects`); absent is fine."""
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(path)

    def objects(self) -> Iterator[StoredObject]:
        """Every file of the store with its modification time (images and leftovers)."""
        if not self.fs.exists(self.root):
            return
        for path, info in self.fs.find(self.root, detail=True).items():
            folder, name = ["", *path.rsplit("/", 2)][-2:]
            stem = name.removesuffix(SUFFIX)
            digest = stem if name.endswith(SUFFIX) and DIGEST_PATTERN.fullmatch(stem) else None
            if digest is not None and folder != digest[:2]:
                digest = None  # an image-like name outside its shard folder: not written here
            if digest is None and not name.endswith(TEMPORARY_SUFFIX):
                continue  # not ours: never touched
            yield StoredObject(path=path, digest=digest, modified=_modified(info))
