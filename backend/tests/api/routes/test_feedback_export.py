"""Production feedback becomes training data: API -> export -> ``create_datasets``, both databases.

Predictions (with images) and feedback go through the real API; the datascience export CLI then
reads the API's database and image store, and ``create_datasets`` reads what it wrote.
"""

import base64
import hashlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.db.models import Feedback, Prediction
from app.main import create_app
from product_classifier.data.original import read_original
from product_classifier.image_store import ImageStore
from tests.conftest import Account, make_account, make_settings, seeded_database, sessions_on
from tests.helpers.images import image_bytes
from tests.helpers.models import run_cli

API = "/api/v1"


# The export reads every feedback since a time: this module has databases of its own, so that
# rows other tests write (some dated in the future) cannot enter its counts.
@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A migrated database with the first administrator, for this module only."""
    with seeded_database(request.param, "export_test") as url:
        yield url


@pytest.fixture(scope="module")
def session_factory(database_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on this module's database."""
    with sessions_on(database_url) as factory:
        yield factory


@pytest.fixture(scope="module")
def user(session_factory: sessionmaker[Session], database_url: str) -> Account:
    """An active user who is not an administrator, in this module's database."""
    return make_account(session_factory, make_settings(database_url))


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    """The image store of this test's API."""
    return tmp_path / "images"


@pytest.fixture
def client(database_url: str, trained_text, store_dir: Path) -> Iterator[TestClient]:
    """The API serving the text model, keeping images in ``store_dir``."""
    settings = make_settings(database_url, MODEL_NAME="text", IMAGE_STORE_URL=str(store_dir))
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _predict(client: TestClient, user: Account, designation: str, image: bytes | None) -> int:
    files = {"image": ("p.jpg", image, "image/jpeg")} if image else None
    params = {"designation": designation} if designation else {}
    response = client.post(f"{API}/predict/", params=params, headers=user.headers, files=files)
    assert response.status_code == 200, response.text
    return int(response.headers["X-Prediction-Id"])


def _feedback(
    client: TestClient, user: Account, product_id: int, real: int, **extra: object
) -> None:
    body = {"product_id": product_id, "real_category_id": real, **extra}
    if "prediction_id" not in extra:  # with one, the prediction's top category is the default
        body["pred_category_id"] = 10
    response = client.post(f"{API}/feedback/", json=body, headers=user.headers)
    assert response.status_code == 201, response.text


def test_feedback_exported_in_the_original_format_feeds_create_datasets(  # noqa: PLR0917
    client: TestClient,
    user: Account,
    session_factory: sessionmaker[Session],
    store_dir: Path,
    tracking_uri: str,
    database_url: str,
    tmp_path: Path,
) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    base = 10**12 + uuid.uuid4().int % 10**9  # product ids of this run only
    n1, n2, n3, n4, n5, n6 = (base + i for i in range(6))
    extra = uuid.uuid4().int % 100  # images of this run only
    image_a, image_b, image_c, image_d = (image_bytes(size=(60 + extra + i, 50)) for i in range(4))

    # n1: predicted with an image, feedback 2522; predicted again, and a later feedback (for
    # version 2, as after a promotion) says 1560: the latest feedback wins.
    first = _predict(client, user, "Stylo plume", image_a)
    _feedback(client, user, n1, 2522, prediction_id=first)
    second = _predict(client, user, "Stylo plume, nouvelle photo", image_a)
    with session_factory() as session:
        session.add(
            Feedback(
                product_id=n1,
                model_version="2",
                real_category_id=1560,
                pred_category_id=2522,
                prediction_id=second,
                created_at=datetime.now(UTC) + timedelta(seconds=5),
            )
        )
        session.commit()
    # n2 (image) and n3 (text only) in one batch; n2's feedback names only the product.
    batch = client.post(
        f"{API}/predict/batch",
        json=[
            {
                "designation": "Table de jardin",
                "image": base64.b64encode(image_b).decode(),
                "product_id": str(n2),
            },
            {"designation": "Roman policier", "description": "<b>Poche</b>", "product_id": str(n3)},
        ],
        headers=user.headers,
    )
    assert batch.status_code == 200, batch.text
    _feedback(client, user, n2, 2582, model_version="1")
    _feedback(client, user, n3, 10, prediction_id=batch.json()[1]["prediction_id"])
    # n4: image only (made while an image-reading model was served: the text model served
    # here refuses it), and its image is no longer kept: nothing left to learn from.
    with session_factory() as session:
        image_only = Prediction(
            user_id=user.id,
            model_name="fusion",
            model_version="1",
            image_sha256=hashlib.sha256(image_c).hexdigest(),
            image_size_bytes=len(image_c),
            image_width=60 + extra + 2,
            image_height=50,
            results=[{"category_id": 1280, "probabilities": 90.0}],
            latency_ms=1.0,
        )
        session.add(image_only)
        session.commit()
        image_only_id = image_only.id
    _feedback(client, user, n4, 1280, prediction_id=image_only_id)
    # n5: text and image, the image no longer kept: the row keeps its text.
    n5_prediction = _predict(client, user, "Piscine gonflable", image_d)
    _feedback(client, user, n5, 2583, prediction_id=n5_prediction)
    store = ImageStore(str(store_dir))
    store.delete(store.path(hashlib.sha256(image_d).hexdigest()))
    # n6: a feedback without any stored prediction of that product.
    _feedback(client, user, n6, 40, model_version="1")

    export = tmp_path / "feedback"
    output = run_cli(
        "scripts.export_feedback_dataset",
        "--output-dir",
        str(export),
        "--since",
        since.isoformat(),
        "--database-url",
        database_url,
        "--image-store-url",
        str(store_dir),
        tracking_uri=tracking_uri,
    )
    assert "4 rows, 4 classes, 2 images (2 rows with text only)" in output
    assert "1 products whose prediction is not stored, 1 with neither text" in output

    data = read_original(export, require_images=False)
    rows = data.X.assign(prdtypecode=data.y).set_index("productid")
    assert sorted(rows.index) == [n1, n2, n3, n5]
    assert rows.loc[n1, "prdtypecode"] == 1560
    assert rows.loc[n1, "designation"] == "Stylo plume, nouvelle photo"
    assert rows.loc[n1, "imageid"] == second
    assert rows.loc[n2, "prdtypecode"] == 2582
    assert rows.loc[n3, "description"] == "<b>Poche</b>"
    assert rows.loc[n5, "designation"] == "Piscine gonflable"
    n2_prediction = batch.json()[0]["prediction_id"]
    assert rows.loc[n2, "imageid"] == n2_prediction
    expected = {
        f"image_{second}_product_{n1}.jpg": image_a,
        f"image_{n2_prediction}_product_{n2}.jpg": image_b,
    }
    written = {path.name: path.read_bytes() for path in (export / "images").iterdir()}
    assert written == expected  # the bytes the API received
    assert not list(tmp_path.glob(".feedback.*")), "the temporary folder was left behind"

    # Only version 2's feedback.
    only_v2 = run_cli(
        "scripts.export_feedback_dataset",
        "--output-dir",
        str(tmp_path / "v2"),
        "--since",
        since.isoformat(),
        "--model-version",
        "2",
        "--database-url",
        database_url,
        "--image-store-url",
        str(store_dir),
        tracking_uri=tracking_uri,
    )
    assert "1 rows, 1 classes, 1 images" in only_v2

    dataset = tmp_path / "dataset"
    created = run_cli(
        "scripts.create_datasets",
        "--input-dir",
        str(export),
        "--output-dir",
        str(dataset),
        "--mixed",
        "--image-size",
        "32",
        "--workers",
        "1",
        tracking_uri=tracking_uri,
    )
    assert "Mixed rows: 2 with text but no image" in created
    train = pd.read_csv(dataset / "X_train.csv", index_col=0)
    test = pd.read_csv(dataset / "X_test.csv", index_col=0)
    assert sorted([*train["productid"], *test["productid"]]) == [n1, n2, n3, n5]
