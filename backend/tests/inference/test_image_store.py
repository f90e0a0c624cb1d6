"""Uploaded images kept once by their SHA-256, read back by administrators only, purged by age.

Real stores: an fsspec in-memory store (``memory://``) and local folders; real databases.
"""

import base64
import hashlib
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from app.db.models import Prediction
from app.inference.image_retention import purge_expired_images
from app.main import create_app
from product_classifier.image_store import ImageStore
from scripts import purge_images
from tests.conftest import SESSION_HOME, Account, make_settings
from tests.helpers.images import image_bytes

API = "/api/v1"


def _client(database_url: str, **settings: object) -> Iterator[TestClient]:
    app = create_app(make_settings(database_url, MODEL_NAME="text", **settings))
    with TestClient(app) as client:
        yield client


@pytest.fixture(scope="module")
def store_url() -> str:
    """A fresh in-memory store for this module."""
    return f"memory://images-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def kept_client(database_url: str, trained_text, store_url: str) -> Iterator[TestClient]:
    """The API keeping images in the in-memory store."""
    yield from _client(database_url, IMAGE_STORE_URL=store_url)


def _predict_with_image(client: TestClient, user: Account, image: bytes) -> int:
    response = client.post(
        f"{API}/predict/",
        params={"designation": "Stylo plume bleu"},
        headers=user.headers,
        files={"image": ("photo.jpg", image, "image/jpeg")},
    )
    assert response.status_code == 200, response.text
    return int(response.headers["X-Prediction-Id"])


def test_an_uploaded_image_is_kept_and_read_back_by_administrators(
    kept_client: TestClient, store_url: str, user: Account, admin: Account
) -> None:
    image = image_bytes(size=(80, 60))
    prediction_id = _predict_with_image(kept_client, user, image)
    digest = hashlib.sha256(image).hexdigest()
    assert ImageStore(store_url).get(digest) == image

    answer = kept_client.get(f"{API}/predictions/{prediction_id}/image", headers=admin.headers)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/jpeg"
    assert answer.content == image

    refused = kept_client.get(f"{API}/predictions/{prediction_id}/image", headers=user.headers)
    assert refused.status_code == 403
    assert "detail" in refused.json()
    anonymous = kept_client.get(f"{API}/predictions/{prediction_id}/image")
    assert anonymous.status_code == 401


def test_no_image_is_a_json_404(kept_client: TestClient, user: Account, admin: Account) -> None:
    response = kept_client.post(
        f"{API}/predict/", params={"designation": "Cahier"}, headers=user.headers
    )
    prediction_id = int(response.headers["X-Prediction-Id"])
    for path in (f"{prediction_id}/image", "2147483647/image"):
        answer = kept_client.get(f"{API}/predictions/{path}", headers=admin.headers)
        assert answer.status_code == 404
        assert answer.headers["content-type"] == "application/json"
        assert answer.json()["detail"]


def test_a_batch_keeps_each_distinct_image_once(
    kept_client: TestClient, store_url: str, user: Account, admin: Account
) -> None:
    # Sizes of their own: the in-memory store is shared by both databases' runs.
    extra = 1 + uuid.uuid4().int % 200
    first, second = image_bytes(size=(90 + extra, 70)), image_bytes(size=(70, 90 + extra))
    store = ImageStore(store_url)
    before = sum(1 for _ in store.objects())
    products = [
        {"designation": "Lampe", "image": base64.b64encode(image).decode()}
        for image in (first, second, first)
    ]
    response = kept_client.post(f"{API}/predict/batch", json=products, headers=user.headers)
    assert response.status_code == 200, response.text
    assert sum(1 for _ in store.objects()) == before + 2
    for item, image in zip(response.json(), (first, second, first), strict=True):
        answer = kept_client.get(
            f"{API}/predictions/{item['prediction_id']}/image", headers=admin.headers
        )
        assert answer.content == image


def test_with_the_store_off_nothing_is_kept(
    database_url: str, trained_text, user: Account, admin: Account
) -> None:
    folder = SESSION_HOME / f"off-{uuid.uuid4().hex[:8]}"
    for client in _client(database_url, IMAGE_STORE_ENABLED=False, IMAGE_STORE_URL=str(folder)):
        prediction_id = _predict_with_image(client, user, image_bytes(size=(66, 66)))
        answer = client.get(f"{API}/predictions/{prediction_id}/image", headers=admin.headers)
        assert answer.status_code == 404
        assert "IMAGE_STORE_ENABLED" in answer.json()["detail"]
    assert not folder.exists()


def _failed_writes(client: TestClient) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith('image_store_writes_total{outcome="failed"}'):
            return float(line.split()[-1])
    return 0.0


def test_a_broken_store_never_fails_the_prediction(
    database_url: str, trained_text, user: Account, admin: Account, tmp_path: Path
) -> None:
    # The store's folder becomes a regular file while the API runs: every write fails with an
    # OSError (a file given at the start is an invalid setting).
    store = tmp_path / "store"
    for client in _client(database_url, IMAGE_STORE_URL=str(store)):
        shutil.rmtree(store, ignore_errors=True)
        store.write_bytes(b"")
        failed = _failed_writes(client)
        prediction_id = _predict_with_image(client, user, image_bytes(size=(50, 40)))
        assert _failed_writes(client) == failed + 1
        answer = client.get(f"{API}/predictions/{prediction_id}/image", headers=admin.headers)
        assert answer.status_code in (404, 503)
        assert answer.json()["detail"]


def _age_file(path: str, days: float) -> None:
    stamp = (datetime.now(UTC) - timedelta(days=days)).timestamp()
    os.utime(path, (stamp, stamp))


def test_the_purge_keeps_what_recent_predictions_refer_to(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    store = ImageStore(str(tmp_path / "store"))
    old, reused, fresh = (image_bytes(size=(40 + i, 40)) for i in range(3))
    for image in (old, reused, fresh):
        assert store.put(image)
    assert not store.put(fresh)  # already kept: written once
    leftover = f"{store.path(hashlib.sha256(old).hexdigest())}.123.tmp"
    Path(leftover).write_bytes(b"half")
    for image in (old, reused):
        _age_file(store.path(hashlib.sha256(image).hexdigest()), 40)
    _age_file(leftover, 40)
    # ``reused`` was first stored long ago but sent again yesterday.
    digest = hashlib.sha256(reused).hexdigest()
    with session_factory() as session:
        row = Prediction(
            model_name="text", model_version="1", image_sha256=digest, results=[], latency_ms=1.0
        )
        session.add(row)
        session.flush()
        session.execute(
            update(Prediction)
            .where(Prediction.id == row.id)
            .values(created_at=datetime.now(UTC) - timedelta(days=1))
        )
        session.commit()

    summary = purge_expired_images(store, session_factory, retention_days=30)

    assert (summary.deleted, summary.kept, summary.leftovers) == (1, 2, 1)
    assert store.get(hashlib.sha256(old).hexdigest()) is None
    assert store.get(digest) == reused
    assert store.get(hashlib.sha256(fresh).hexdigest()) == fresh
    assert not Path(leftover).exists()


def test_the_purge_command(
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from app.core.config import get_settings

    store = ImageStore(str(tmp_path / "store"))
    image = image_bytes(size=(33, 44))
    store.put(image)
    _age_file(store.path(hashlib.sha256(image).hexdigest()), 3)
    monkeypatch.setenv("SQLALCHEMY_DATABASE_URI", database_url)
    monkeypatch.setenv("IMAGE_STORE_URL", str(tmp_path / "store"))
    get_settings.cache_clear()
    try:
        assert purge_images.main([]) == 2  # no retention configured
        assert purge_images.main(["--retention-days", "7"]) == 0
        assert store.contains(hashlib.sha256(image).hexdigest())
        assert purge_images.main(["--retention-days", "2"]) == 0
        assert not store.contains(hashlib.sha256(image).hexdigest())
    finally:
        get_settings.cache_clear()
    assert "1 images deleted" in capsys.readouterr().out


def test_the_api_purges_expired_images_when_it_starts(
    database_url: str, trained_text, tmp_path: Path
) -> None:
    store = ImageStore(str(tmp_path / "store"))
    expired, recent = image_bytes(size=(31, 31)), image_bytes(size=(32, 32))
    store.put(expired)
    store.put(recent)
    _age_file(store.path(hashlib.sha256(expired).hexdigest()), 10)
    settings = {"IMAGE_STORE_URL": str(tmp_path / "store"), "IMAGE_STORE_RETENTION_DAYS": 5}
    for _ in _client(database_url, **settings):
        deadline = time.monotonic() + 30
        while store.contains(hashlib.sha256(expired).hexdigest()):
            assert time.monotonic() < deadline, "the start-up purge did not run"
            time.sleep(0.1)
    assert store.contains(hashlib.sha256(recent).hexdigest())
