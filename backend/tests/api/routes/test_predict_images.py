"""Images through the fusion and image models: real JPEGs, decoded in memory, stored."""

import base64
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.db.models import Prediction
from app.main import create_app
from product_classifier.paths import REAL_SAMPLE_DIR
from tests.conftest import make_settings
from tests.helpers.models import promote
from tests.helpers.predictions import assert_stored

API = "/api/v1"
TEXT = {"designation": "Coussin décoratif en velours", "description": "Housse amovible"}


@pytest.fixture(scope="module")
def jpeg(trained_fusion) -> bytes:
    """A real product picture: from the Rakuten sample, else from the generated one."""
    for folder in (REAL_SAMPLE_DIR / "images", trained_fusion.original_dir / "images"):
        images = sorted(folder.glob("*.jpg"))
        if images:
            data: bytes = images[0].read_bytes()
            return data
    pytest.fail("No JPEG found in the real or the generated sample")


def predict(
    client: TestClient, headers: dict[str, str], params: dict[str, str], image: bytes | None = None
) -> Any:
    files = {"image": ("product.jpg", image, "image/jpeg")} if image is not None else None
    return client.post(f"{API}/predict/", params=params, headers=headers, files=files)


def test_fusion_uses_text_image_or_both(fusion_client, user, db, jpeg, trained_fusion):
    version = trained_fusion.versions["fusion"][0]
    answers = {}
    for label, params, image in (
        ("text", TEXT, None),
        ("image", {}, jpeg),
        ("both", TEXT, jpeg),
    ):
        response = predict(fusion_client, user.headers, params, image)
        assert response.status_code == 200, response.text
        assert response.headers["X-Model-Name"] == "fusion"
        assert response.headers["X-Model-Version"] == version
        answers[label] = response.json()
        assert_stored(
            db,
            int(response.headers["X-Prediction-Id"]),
            results=answers[label],
            model_name="fusion",
            model_version=version,
            user_id=user.id,
            image=image,
            **params,
        )
    # The image changes the answer: the model reads it.
    assert answers["both"] != answers["text"]
    assert answers["image"] != answers["text"]


def test_fusion_batch_with_images(fusion_client, user, db, jpeg):
    encoded = base64.b64encode(jpeg).decode()
    products = [
        {"product_id": "101", "image": encoded},
        {"product_id": "102", **TEXT, "image": encoded},
    ]
    response = fusion_client.post(f"{API}/predict/batch", json=products, headers=user.headers)
    assert response.status_code == 200
    single = predict(fusion_client, user.headers, {}, jpeg).json()
    first = response.json()[0]["categories"]
    assert [r["category_id"] for r in first] == [r["category_id"] for r in single]
    for item, product in zip(response.json(), products, strict=True):
        assert_stored(
            db,
            item["prediction_id"],
            results=item["categories"],
            model_name="fusion",
            model_version=response.headers["X-Model-Version"],
            user_id=user.id,
            designation=product.get("designation", ""),
            description=product.get("description", ""),
            image=jpeg,
            product_id=product["product_id"],
        )


def _refused_and_not_stored(response: Any, db: Any, before: int, words: str) -> None:
    """A 400 saying what the served model reads; no prediction stored."""
    assert response.status_code == 400, response.text
    assert words in response.json()["detail"]
    db.expire_all()
    assert db.query(Prediction).count() == before


@pytest.fixture(scope="module")
def image_client(database_url, tracking_uri, trained_fusion):
    """The application serving the image model as ``image@production``."""
    promote("image", trained_fusion.versions["image"][0], "production", tracking_uri)
    settings = make_settings(database_url, MODEL_NAME="image", MODEL_ALIAS="production")
    with TestClient(create_app(settings)) as client:
        yield client


def test_image_model_is_served_too(image_client, user, jpeg):
    response = predict(image_client, user.headers, {}, jpeg)
    assert response.status_code == 200
    assert response.headers["X-Model-Name"] == "image"
    assert len(response.json()) == 27


def test_the_image_model_refuses_a_product_without_an_image(image_client, user, db, jpeg):
    # Text alone would get the uniform 3.7 % for every category: refused, single and batch.
    before = db.query(Prediction).count()
    words = "reads only the image, and this product has none"
    _refused_and_not_stored(predict(image_client, user.headers, TEXT), db, before, words)
    response = image_client.post(f"{API}/predict/", json=TEXT, headers=user.headers)
    _refused_and_not_stored(response, db, before, words)
    products = [{"image": base64.b64encode(jpeg).decode()}, TEXT]
    response = image_client.post(f"{API}/predict/batch", json=products, headers=user.headers)
    _refused_and_not_stored(response, db, before, "Product 1: The served model, image@")


def test_the_text_model_refuses_a_product_with_only_an_image(client, user, db, jpeg):
    before = db.query(Prediction).count()
    words = "reads only designation and description, and this product has neither"
    _refused_and_not_stored(predict(client, user.headers, {}, jpeg), db, before, words)
    blank = {"designation": "   ", "description": " "}
    _refused_and_not_stored(predict(client, user.headers, blank, jpeg), db, before, words)
    products = [TEXT, {"product_id": "7", "image": base64.b64encode(jpeg).decode()}]
    response = client.post(f"{API}/predict/batch", json=products, headers=user.headers)
    _refused_and_not_stored(response, db, before, "Product 1: The served model, text@")
    # With its text, the image is checked and kept, and the text model answers.
    assert predict(client, user.headers, TEXT, jpeg).status_code == 200


def test_a_turned_photo_is_stored_with_its_upright_size(fusion_client, user, db, jpeg):
    picture = Image.open(io.BytesIO(jpeg))
    exif = Image.Exif()
    exif[0x0112] = 6  # EXIF orientation: the camera held turned by 90 degrees
    buffer = io.BytesIO()
    picture.resize((picture.width, picture.height // 2)).save(buffer, "JPEG", exif=exif.tobytes())
    turned = buffer.getvalue()
    width, height = picture.width, picture.height // 2  # as stored in the file

    single = predict(fusion_client, user.headers, TEXT, turned)
    batch = fusion_client.post(
        f"{API}/predict/batch",
        json=[{**TEXT, "image": base64.b64encode(turned).decode()}],
        headers=user.headers,
    )

    assert single.status_code == batch.status_code == 200
    for prediction_id in (single.headers["X-Prediction-Id"], batch.json()[0]["prediction_id"]):
        db.expire_all()
        row = db.get(Prediction, int(prediction_id))
        assert row is not None
        assert (row.image_width, row.image_height) == (height, width)
