"""Memory through batches (issue kind 8): decoded pixels are bounded per request, and large
photos are decoded at the scale the model reads.

``MAX_REQUEST_PIXELS`` caps the decoded pixels of one request (every image of a batch together,
413 past it); JPEG draft mode decodes a 4000x4000 photo at 500x500 when the model reads 64x64
images. ``python -m benchmarks.bench_batch_memory`` measures the memory of the issue's example.
"""

import base64
import io
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select

from app.db.models import Prediction
from app.inference.images import (
    DECODE_MARGIN,
    ImageRejectedError,
    PixelBudget,
    decode_jpeg,
    decode_side,
)
from app.main import create_app
from tests.conftest import make_settings

API = "/api/v1"
LIMITS: dict[str, Any] = {"max_bytes": 5_000_000, "max_pixels": 16_000_000}


def big_jpeg(side: int = 4000) -> bytes:
    """A smooth photo-sized JPEG (small file, many pixels), as in the issue's example."""
    buffer = io.BytesIO()
    Image.linear_gradient("L").resize((side, side)).convert("RGB").save(
        buffer, format="JPEG", quality=70
    )
    return buffer.getvalue()


@pytest.fixture(scope="module")
def photo() -> bytes:
    return big_jpeg()


def test_a_large_photo_is_decoded_at_the_models_scale(photo):
    decoded = decode_jpeg(photo, **LIMITS, min_side=DECODE_MARGIN * 64)
    assert (decoded.width, decoded.height) == (4000, 4000)  # stored: the photo's own size
    assert decoded.image.size == (500, 500)  # decoded: 1/8, still >= 128 on each side
    full = decode_jpeg(photo, **LIMITS)
    assert full.image.size == (4000, 4000)


def test_small_pictures_are_never_scaled_below_what_the_model_needs():
    small = io.BytesIO()
    Image.new("RGB", (300, 200), "navy").save(small, format="JPEG")
    assert decode_jpeg(small.getvalue(), **LIMITS, min_side=128).image.size == (300, 200)


def test_decode_side_follows_the_served_model(client, fusion_client):
    text = client.app.state.model_server.current.predictor
    fusion = fusion_client.app.state.model_server.current.predictor
    assert decode_side(text) == 1  # reads no image: only checked, at the smallest scale
    assert decode_side(fusion) == DECODE_MARGIN * fusion.config.image_size
    assert decode_side(object()) is None  # unknown: full size


def test_the_budget_counts_every_image_of_a_request():
    budget = PixelBudget(1000)
    budget.spend(600)
    with pytest.raises(ImageRejectedError, match="MAX_REQUEST_PIXELS") as caught:
        budget.spend(401)
    assert caught.value.status_code == 413


def test_the_issues_batch_is_predicted_from_small_decodes(client, user, photo):
    # The issue's example: 32 copies of a 4000x4000 JPEG in one batch (3.3 GB before).
    encoded = base64.b64encode(photo).decode()
    products = [{"designation": f"Photo {index}", "image": encoded} for index in range(32)]
    response = client.post(f"{API}/predict/batch", json=products, headers=user.headers)
    assert response.status_code == 200, response.text
    assert len(response.json()) == 32


@pytest.fixture(scope="module")
def small_budget(database_url, trained_text) -> Iterator[TestClient]:
    """The text model (it reads no image: pictures are decoded at 1/8), 50,000 pixels each."""
    settings = make_settings(
        database_url, MODEL_NAME="text", MODEL_ALIAS="production", MAX_REQUEST_PIXELS=50_000
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def count_predictions(db) -> int:
    db.expire_all()
    return int(db.scalar(select(func.count()).select_from(Prediction)))


def test_a_batch_over_the_budget_is_413_and_stores_nothing(small_budget, user, db):
    encoded = base64.b64encode(big_jpeg(1000)).decode()  # decoded at 125x125: 15,625 pixels
    before = count_predictions(db)
    fits = small_budget.post(
        f"{API}/predict/batch",
        json=[{"designation": "x", "image": encoded}] * 3,
        headers=user.headers,
    )
    assert fits.status_code == 200
    response = small_budget.post(
        f"{API}/predict/batch",
        json=[{"designation": "x", "image": encoded}] * 4,
        headers=user.headers,
    )
    assert response.status_code == 413
    detail = response.json()["detail"]
    assert detail.startswith("Product 3: Images too large for one request")
    assert "50000 pixels (MAX_REQUEST_PIXELS)" in detail
    assert count_predictions(db) == before + 3


def test_a_single_image_over_the_budget_is_413(small_budget, user, db):
    files = {"image": ("big.jpg", big_jpeg(2000), "image/jpeg")}  # 250x250 at 1/8: 62,500
    before = count_predictions(db)
    response = small_budget.post(
        f"{API}/predict/", params={"designation": "x"}, files=files, headers=user.headers
    )
    assert response.status_code == 413
    assert "MAX_REQUEST_PIXELS" in response.json()["detail"]
    assert count_predictions(db) == before
