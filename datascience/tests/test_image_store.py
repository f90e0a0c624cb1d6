"""The content-addressed image store on a local folder and on fsspec's in-memory file system."""

import hashlib
import uuid
from pathlib import Path

import pytest

from product_classifier.image_store import ImageStore, InvalidDigestError
from product_classifier.settings import PlatformSettings


@pytest.fixture(params=["folder", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ImageStore:
    """An empty store of each kind."""
    if request.param == "folder":
        return ImageStore(str(tmp_path / "images"))
    return ImageStore(f"memory://store-{uuid.uuid4().hex[:8]}")


def test_an_image_is_kept_once_under_its_sha256(store: ImageStore) -> None:
    data = b"\xff\xd8 not really a jpeg but bytes all the same"
    digest = hashlib.sha256(data).hexdigest()
    assert not store.contains(digest)
    assert store.get(digest) is None
    assert store.put(data, digest) is True
    assert store.put(data) is False  # already there: not written again
    assert store.get(digest) == data
    assert store.path(digest).endswith(f"/{digest[:2]}/{digest}.jpg")
    assert [stored.digest for stored in store.objects()] == [digest]


def test_wrong_digests_are_refused(store: ImageStore) -> None:
    with pytest.raises(InvalidDigestError):
        store.put(b"abc", hashlib.sha256(b"abd").hexdigest())
    with pytest.raises(InvalidDigestError):
        store.get("../../etc/passwd")
    assert list(store.objects()) == []


def test_a_damaged_file_is_not_returned(tmp_path: Path) -> None:
    store = ImageStore(str(tmp_path))
    data = b"original bytes"
    digest = hashlib.sha256(data).hexdigest()
    store.put(data)
    Path(store.path(digest)).write_bytes(b"flipped bytes")
    assert store.get(digest) is None


def test_a_local_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    store = ImageStore(str(tmp_path / "images"))
    store.put(b"one")
    store.put(b"two")
    files = sorted(path.name for path in (tmp_path / "images").rglob("*") if path.is_file())
    assert files == sorted(f"{hashlib.sha256(d).hexdigest()}.jpg" for d in (b"one", b"two"))


def test_the_default_store_is_under_the_state_folder(tmp_path: Path) -> None:
    assert PlatformSettings(STATE_DIR=tmp_path).image_store_url == str(tmp_path / "images")
    # A URL is kept as it is (s3:// would need s3fs installed: see tests/test_settings.py).
    url = PlatformSettings(IMAGE_STORE_URL="memory://bucket/prefix").image_store_url
    assert url == "memory://bucket/prefix"


@pytest.mark.parametrize("folder", ["notes", "", "zz"])
def test_an_image_like_name_outside_its_shard_folder_is_not_the_stores(
    store: ImageStore, folder: str
) -> None:
    data = b"\xff\xd8 a stray file"
    digest = hashlib.sha256(data).hexdigest()
    stray = "/".join(part for part in (store.root, folder, f"{digest}.jpg") if part)
    store.fs.makedirs(stray.rsplit("/", 1)[0], exist_ok=True)
    store.fs.pipe_file(stray, data)
    assert list(store.objects()) == []  # so the retention purge never deletes it
    store.put(data)
    assert [stored.digest for stored in store.objects()] == [digest]
