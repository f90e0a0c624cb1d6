"""POST /predict/ and /predict/batch with the text model: results, headers, storage, errors."""

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.db.models import Prediction
from app.main import create_app
from product_classifier.categories import CATEGORY_CODES
from tests.conftest import bearer, make_settings
from tests.helpers.images import image_bytes, noisy_jpeg, with_jpeg_dimensions
from tests.helpers.predictions import assert_stored

API = "/api/v1"
BOOK: dict[str, str] = {
    "designation": "Guillaume Le Maréchal Tome 1 - Le Chevalier D'aliénor",
    "description": "L'histoire oubliée du meilleur chevalier du monde... 1167, duché de Normandie",
}
NO_DATA = "You must provide either designation/description or an image to get a result."
INVALID_EXTENSION = "Invalid image extension. Image must be in JPEG or JPG format."
INVALID_FORMAT = "Invalid image format. Image must be in JPEG or JPG format and colored."
EMPTY_IMAGE = (
    "Empty image: the image file is empty (0 bytes). Send a colour JPEG, or no image at all."
)
SEND_A_JPEG = "Send a JPEG named .jpg or .jpeg, with the content type image/jpeg (or none)."
PNG = image_bytes("RGB", fmt="PNG")


def predict(
    client: TestClient,
    headers: dict[str, str],
    params: dict[str, Any] | None = None,
    image: bytes | None = None,
    filename: str = "product.jpg",
    *,
    content_type: str = "image/jpeg",
) -> Any:
    files = {"image": (filename, image, content_type)} if image is not None else None
    return client.post(f"{API}/predict/", params=params or {}, headers=headers, files=files)


def assert_prediction_shape(results: list[dict[str, Any]], length: int) -> None:
    assert len(results) == length
    assert [set(r) for r in results] == [{"category_id", "probabilities"}] * length
    probabilities = [r["probabilities"] for r in results]
    assert probabilities == sorted(probabilities, reverse=True)
    assert {r["category_id"] for r in results} <= set(CATEGORY_CODES)


def test_text_prediction_returns_all_categories_and_is_stored(client, user, db):
    response = predict(client, user.headers, BOOK)
    assert response.status_code == 200
    results = response.json()
    assert_prediction_shape(results, 27)
    assert sum(r["probabilities"] for r in results) == pytest.approx(100.0)
    assert response.headers["X-Model-Name"] == "text"
    assert response.headers["X-Model-Version"] == "1"
    assert_stored(
        db,
        int(response.headers["X-Prediction-Id"]),
        results=results,
        model_name="text",
        model_version="1",
        user_id=user.id,
        designation=BOOK["designation"],
        description=BOOK["description"],
    )


def test_limit_cuts_the_list_and_the_stored_copy(client, user, db):
    full = predict(client, user.headers, BOOK).json()
    response = predict(client, user.headers, {**BOOK, "limit": 3})
    assert response.status_code == 200
    results = response.json()
    assert_prediction_shape(results, 3)
    assert results == full[:3]
    assert_stored(
        db,
        int(response.headers["X-Prediction-Id"]),
        results=results,
        model_name="text",
        model_version="1",
        user_id=user.id,
        designation=BOOK["designation"],
        description=BOOK["description"],
    )


def test_designation_or_description_alone_is_enough(client, user):
    assert predict(client, user.headers, {"designation": "Piscine gonflable"}).status_code == 200
    assert predict(client, user.headers, {"description": "Une piscine"}).status_code == 200


def test_text_model_accepts_an_image_beside_the_text(client, user, db):
    jpeg = image_bytes("RGB", (120, 90))
    response = predict(client, user.headers, BOOK, image=jpeg)
    assert response.status_code == 200
    assert_stored(
        db,
        int(response.headers["X-Prediction-Id"]),
        results=response.json(),
        model_name="text",
        model_version="1",
        user_id=user.id,
        image=jpeg,
        designation=BOOK["designation"],
        description=BOOK["description"],
    )


def test_large_real_size_jpeg_is_accepted(client, user):
    jpeg = noisy_jpeg((1200, 1000))
    assert len(jpeg) > 1024 * 1024
    response = predict(client, user.headers, BOOK, jpeg)
    assert response.status_code == 200


@pytest.mark.parametrize("limit", ["0", "-1", str(2**31)])
def test_limit_out_of_its_bounds_is_422(client, user, limit):
    response = predict(client, user.headers, {**BOOK, "limit": limit})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "limit"]


def test_non_integer_limit_is_422(client, user):
    assert predict(client, user.headers, {**BOOK, "limit": "many"}).status_code == 422


BAD_BODIES = [
    {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
    {"json": {"designation": "x", "colour": "red"}},
    {"content": b"designation", "headers": {"Content-Type": "text/plain"}},
    {"json": {"designation": ""}},
]


@pytest.mark.parametrize("body", BAD_BODIES)
def test_inactive_user_is_refused_before_the_input_is_judged(client, inactive_user, body):
    headers = {**inactive_user.headers, **body.get("headers", {})}
    sent = {key: value for key, value in body.items() if key != "headers"}
    response = client.post(f"{API}/predict/", headers=headers, **sent)
    assert (response.status_code, response.json()) == (403, {"detail": "Inactive user"})


@pytest.mark.parametrize("body", BAD_BODIES)
def test_deleted_user_is_refused_before_the_input_is_judged(client, app_settings, body):
    headers = {**bearer(10**9, app_settings), **body.get("headers", {})}
    sent = {key: value for key, value in body.items() if key != "headers"}
    response = client.post(f"{API}/predict/", headers=headers, **sent)
    assert (response.status_code, response.json()) == (
        401,
        {"detail": "Could not validate credentials"},
    )


def test_inactive_user_is_refused_before_the_batch_is_judged(client, inactive_user):
    response = client.post(f"{API}/predict/batch", json=[], headers=inactive_user.headers)
    assert (response.status_code, response.json()) == (403, {"detail": "Inactive user"})


@pytest.mark.parametrize("params", [{}, {"designation": "", "description": "  "}])
def test_nothing_to_predict_from_is_400(client, user, params):
    response = predict(client, user.headers, params)
    assert response.status_code == 400
    assert response.json() == {"detail": NO_DATA}


def test_wrong_extension_is_400(client, user):
    response = predict(client, user.headers, BOOK, image_bytes("RGB", fmt="PNG"), "product.png")
    assert response.status_code == 400
    assert response.json() == {"detail": INVALID_EXTENSION}


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"Hello world", id="not-an-image"),
        pytest.param(image_bytes("L"), id="grayscale"),
    ],
)
def test_anything_but_a_colour_jpeg_is_400(client, user, data):
    response = predict(client, user.headers, BOOK, data)
    assert response.status_code == 400
    assert response.json() == {"detail": INVALID_FORMAT}


@pytest.mark.parametrize(("fmt", "real"), [("PNG", "PNG"), ("GIF", "GIF")])
def test_another_format_named_and_declared_jpeg_is_400_naming_both(client, user, fmt, real):
    response = predict(client, user.headers, BOOK, image_bytes("RGB", fmt=fmt))
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Invalid image format: the file name's extension .jpg and the declared "
        f"content type image/jpeg do not match the image's real format, {real}. "
        "Image must be in JPEG or JPG format and colored."
    }


@pytest.mark.parametrize(
    ("filename", "content_type", "declared"),
    [
        (
            "product.png",
            "image/png",
            "the file name's extension .png and the declared content type image/png do",
        ),
        ("product.png", "image/jpeg", "the file name's extension .png does"),
        ("product.jpg", "image/png", "the declared content type image/png does"),
        ("product.jpeg", "image/webp; q=1", "the declared content type image/webp does"),
        # A type that is no image type declares no image either (only a generic one is silent).
        ("product.jpg", "text/plain", "the declared content type text/plain does"),
        ("product.jpg", "Application/JSON", "the declared content type application/json does"),
        ("product.jpg", "video/mp4", "the declared content type video/mp4 does"),
    ],
)
def test_a_jpeg_declared_as_another_format_is_400_naming_both(
    client, user, db, *, filename, content_type, declared
):
    before = db.scalar(select(func.count()).select_from(Prediction))
    response = predict(
        client, user.headers, BOOK, image_bytes("RGB"), filename, content_type=content_type
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": f"Image format mismatch: {declared} not match the image's real format, JPEG. "
        "Send a JPEG named .jpg or .jpeg, with the content type image/jpeg (or none)."
    }
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Prediction)) == before


@pytest.mark.parametrize(
    "content_type", ["application/octet-stream", "APPLICATION/OCTET-STREAM", "image/jpg", "image/*"]
)
def test_a_jpeg_with_a_generic_or_alias_content_type_is_predicted(client, user, content_type):
    response = predict(
        client, user.headers, BOOK, image_bytes("RGB"), "p.JPG", content_type=content_type
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("filename", ["product.jpg", "vide.JPEG"])
@pytest.mark.parametrize("content_type", ["image/jpeg", "application/octet-stream", "text/plain"])
def test_an_empty_file_is_400_saying_so(client, user, db, filename, content_type):
    before = db.scalar(select(func.count()).select_from(Prediction))
    response = predict(client, user.headers, BOOK, b"", filename, content_type=content_type)
    assert (response.status_code, response.json()) == (400, {"detail": EMPTY_IMAGE})
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Prediction)) == before


def test_decompression_bomb_is_413(client, user, app_settings):
    bomb = with_jpeg_dimensions(image_bytes("RGB", (64, 64)), 30000, 30000)
    response = predict(client, user.headers, BOOK, bomb)
    assert response.status_code == 413
    assert response.json()["detail"] == (
        f"Image too large: 900000000 pixels (maximum {app_settings.MAX_IMAGE_PIXELS} pixels)."
    )


def test_over_long_text_is_422(client, user, app_settings):
    params = {"designation": "a" * (app_settings.MAX_TEXT_LENGTH + 1)}
    response = predict(client, user.headers, params)
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["query", "designation"]
    assert error["msg"].startswith("designation is too long")
    assert error["type"] == "string_too_long"


# --- batch -----------------------------------------------------------------------------------


def batch(
    client: TestClient,
    headers: dict[str, str],
    products: Any,
    params: dict[str, Any] | None = None,
) -> Any:
    return client.post(f"{API}/predict/batch", json=products, headers=headers, params=params)


def test_batch_predicts_every_product_in_order_and_stores_them(client, user, db):
    products: list[dict[str, Any]] = [
        {"product_id": "0071", **BOOK},
        {"product_id": 2, "designation": "Piscine tubulaire ronde 3 m"},
        {"description": "Manette sans fil pour console de jeux"},
    ]
    response = batch(client, user.headers, products, {"limit": 5})
    assert response.status_code == 200
    body = response.json()
    assert [item["product_id"] for item in body] == ["0071", "2", None]
    ids = [item["prediction_id"] for item in body]
    assert response.headers["X-Prediction-Id"] == ",".join(map(str, ids))
    assert response.headers["X-Model-Name"] == "text"
    for product, item in zip(products, body, strict=True):
        assert_prediction_shape(item["categories"], 5)
        assert_stored(
            db,
            item["prediction_id"],
            results=item["categories"],
            model_name="text",
            model_version="1",
            user_id=user.id,
            designation=product.get("designation", ""),
            description=product.get("description", ""),
            product_id=item["product_id"],
        )
    single = predict(client, user.headers, BOOK).json()[:5]
    assert [r["category_id"] for r in body[0]["categories"]] == [r["category_id"] for r in single]
    for a, b in zip(body[0]["categories"], single, strict=True):
        assert a["probabilities"] == pytest.approx(b["probabilities"], rel=1e-4)


@pytest.mark.parametrize(
    "product_id",
    [
        "SKU-1",
        "abc",
        "-1",
        -1,
        1.0,
        "1.0",
        "1e3",
        2**63,
        str(2**63),
        "1" * 20,
        "0" * 20,
        " 7",
        "",
        "١٢",
        True,
        False,
    ],
)
def test_batch_product_id_must_be_the_feedbacks_integer(client, user, db, product_id):
    before = db.scalar(select(func.count()).select_from(Prediction))
    products = [{"designation": "Cahier"}, {"product_id": product_id, "designation": "Stylo"}]
    response = batch(client, user.headers, products)
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", 1, "product_id"]
    assert "integer product id, 0 to 2^63 - 1" in error["msg"]
    # The valid product is not stored either: a refused batch stores nothing.
    assert db.scalar(select(func.count()).select_from(Prediction)) == before


@pytest.mark.parametrize(
    "case",
    [
        ({"designation": 12.5}, "designation", "string_type"),
        ({"designation": "Lampe", "description": 1000}, "description", "string_type"),
        ({"designation": "Lampe", "descripton": "de chevet"}, "descripton", "extra_forbidden"),
        ({"designation": "Lampe", "product_id": True}, "product_id", "value_error"),
    ],
)
def test_batch_products_are_read_as_published(client, user, db, case):
    product, field, error_type = case
    before = db.scalar(select(func.count()).select_from(Prediction))
    response = batch(client, user.headers, [product])
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert (error["loc"], error["type"]) == (["body", 0, field], error_type)
    assert db.scalar(select(func.count()).select_from(Prediction)) == before


@pytest.mark.parametrize(
    ("product_id", "answered"),
    [(0, "0"), ("0", "0"), ("05", "05"), (2**63 - 1, str(2**63 - 1)), ("9" * 18, "9" * 18)],
)
def test_batch_product_ids_in_range_are_kept_as_sent(client, user, db, product_id, answered):
    response = batch(client, user.headers, [{"product_id": product_id, "designation": "Stylo"}])
    assert response.status_code == 200, response.text
    (item,) = response.json()
    assert item["product_id"] == answered
    stored = db.get(Prediction, item["prediction_id"])
    assert stored is not None
    assert stored.product_id == answered


def test_batch_with_base64_images(client, user, db):
    jpeg = image_bytes("RGB", (50, 70))
    products = [{**BOOK, "image": base64.b64encode(jpeg).decode()}]
    response = batch(client, user.headers, products)
    assert response.status_code == 200
    item = response.json()[0]
    assert_stored(
        db,
        item["prediction_id"],
        results=item["categories"],
        model_name="text",
        model_version="1",
        user_id=user.id,
        image=jpeg,
        designation=BOOK["designation"],
        description=BOOK["description"],
    )


@pytest.mark.parametrize(
    ("products", "status", "detail"),
    [
        ([BOOK, {"designation": ""}], 400, f"Product 1: {NO_DATA}"),
        (
            [BOOK, {**BOOK, "image": base64.b64encode(image_bytes("L")).decode()}],
            400,
            f"Product 1: {INVALID_FORMAT}",
        ),
        ([{**BOOK, "image": "%%%"}], 400, f"Product 0: {INVALID_FORMAT} (invalid base64)"),
        (
            [
                {
                    **BOOK,
                    "image": "data:image/png;base64," + base64.b64encode(image_bytes()).decode(),
                }
            ],
            400,
            "Product 0: Image format mismatch: the data URL's media type image/png does not "
            "match the image's real format, JPEG. Send a JPEG named .jpg or .jpeg, with the "
            "content type image/jpeg (or none).",
        ),
        (
            [{**BOOK, "image": "data:image/jpeg;base64," + base64.b64encode(PNG).decode()}],
            400,
            "Product 0: Invalid image format: the data URL's media type image/jpeg does not "
            "match the image's real format, PNG. Image must be in JPEG or JPG format and "
            "colored.",
        ),
    ],
)
def test_batch_errors(client, user, products, status, detail):
    response = batch(client, user.headers, products)
    assert response.status_code == status
    assert response.json() == {"detail": detail}


JPEG_BASE64 = base64.b64encode(image_bytes()).decode()


@pytest.mark.parametrize(
    ("image", "detail"),
    [
        (
            "data:text/plain;base64," + JPEG_BASE64,
            "Image format mismatch: the data URL's media type text/plain does not match the "
            f"image's real format, JPEG. {SEND_A_JPEG}",
        ),
        (
            "data:application/pdf;base64," + JPEG_BASE64,
            "Image format mismatch: the data URL's media type application/pdf does not match "
            f"the image's real format, JPEG. {SEND_A_JPEG}",
        ),
        # The scheme, the media type and ;base64 in capitals (RFC 2397, RFC 2045).
        (
            "DATA:IMAGE/PNG;BASE64," + JPEG_BASE64,
            "Image format mismatch: the data URL's media type image/png does not match the "
            f"image's real format, JPEG. {SEND_A_JPEG}",
        ),
        (
            "Data:Text/Plain;Charset=US-ASCII;Base64," + JPEG_BASE64,
            "Image format mismatch: the data URL's media type text/plain does not match the "
            f"image's real format, JPEG. {SEND_A_JPEG}",
        ),
        ("data:image/jpeg;base64,", EMPTY_IMAGE),
        ("DATA:IMAGE/JPEG;BASE64,\r\n", EMPTY_IMAGE),
        ("  ", EMPTY_IMAGE),
    ],
)
def test_batch_images_declared_otherwise_or_empty_are_400(client, user, db, image, detail):
    before = db.scalar(select(func.count()).select_from(Prediction))
    response = batch(client, user.headers, [BOOK, {**BOOK, "image": image}])
    assert (response.status_code, response.json()) == (400, {"detail": f"Product 1: {detail}"})
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Prediction)) == before


@pytest.mark.parametrize(
    "prefix", ["DATA:IMAGE/JPEG;BASE64,", "data:Image/Jpeg;Base64,", "Data:;base64,", "data:,"]
)
def test_batch_data_urls_are_read_in_any_case(client, user, db, prefix):
    data = image_bytes()
    response = batch(client, user.headers, [{**BOOK, "image": prefix + JPEG_BASE64}])
    assert response.status_code == 200, response.text
    (prediction_id,) = response.headers["X-Prediction-Id"].split(",")
    row = db.get(Prediction, int(prediction_id))
    assert row is not None
    assert row.image_size_bytes == len(data)


def test_empty_batch_is_422(client, user):
    response = batch(client, user.headers, [])
    assert response.status_code == 422
    assert response.json() == {
        "detail": [{"loc": ["body"], "msg": "The batch is empty.", "type": "too_short"}]
    }


def test_batch_body_must_be_a_list(client, user):
    assert batch(client, user.headers, {"designation": "x"}).status_code == 422
    assert batch(client, user.headers, [BOOK], {"limit": 0}).status_code == 422


# --- limits (an application with small limits and no model: checks come first) -------------


@pytest.fixture(scope="module")
def small_limits(database_url):
    settings = make_settings(
        database_url,
        MODEL_NAME="absent-model",
        MAX_UPLOAD_BYTES=20_000,
        MAX_IMAGE_PIXELS=10_000,
        MAX_TEXT_LENGTH=50,
        MAX_BATCH_SIZE=3,
        MAX_BATCH_BODY_BYTES=100_000,
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


SHORT = {"designation": "Livre"}


def test_image_over_the_byte_limit_is_413(small_limits, user):
    jpeg = noisy_jpeg((150, 150))
    assert 20_000 < len(jpeg) < 20_000 + 64 * 1024
    response = predict(small_limits, user.headers, SHORT, jpeg)
    assert response.status_code == 413
    assert "bytes" in response.json()["detail"]


def test_body_over_the_request_limit_is_413_json(small_limits, user):
    jpeg = noisy_jpeg((300, 300))
    assert len(jpeg) > 20_000 + 64 * 1024
    response = predict(small_limits, user.headers, SHORT, jpeg)
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large: more than 85536 bytes."}


def test_streamed_body_over_the_request_limit_is_413_json(small_limits, user):
    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b"x" * 10_000

    response = small_limits.post(
        f"{API}/predict/",
        params=SHORT,
        headers={**user.headers, "Content-Type": "multipart/form-data; boundary=xyz"},
        content=chunks(),
    )
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large: more than 85536 bytes."}


def test_image_over_the_pixel_limit_is_413(small_limits, user):
    response = predict(small_limits, user.headers, SHORT, image_bytes("RGB", (200, 100)))
    assert response.status_code == 413
    assert "20000 pixels" in response.json()["detail"]


def test_text_over_the_length_limit_is_422(small_limits, user):
    response = predict(small_limits, user.headers, {"description": "x" * 51})
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "loc": ["query", "description"],
                "msg": "description is too long: 51 characters (maximum 50, MAX_TEXT_LENGTH).",
                "type": "string_too_long",
            }
        ]
    }


def test_batch_over_the_count_limit_is_422(small_limits, user):
    response = batch(small_limits, user.headers, [SHORT] * 4)
    assert response.status_code == 422
    assert (
        response.json()["detail"][0]["msg"] == "Too many products: 4 (maximum 3, MAX_BATCH_SIZE)."
    )


def test_batch_body_over_its_limit_is_413(small_limits, user):
    products = [{"designation": "x", "image": "A" * 60_000}] * 2
    response = batch(small_limits, user.headers, products)
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large: more than 100000 bytes."}


def test_batch_body_under_its_limit_may_exceed_the_single_limit(small_limits, user):
    products = [{"designation": "x", "image": "A" * 30_000}] * 3
    response = batch(small_limits, user.headers, products)
    # Past the body limit, each image is checked on its own: 22 500 bytes > 20 000.
    assert response.status_code == 413
    assert response.json()["detail"].startswith("Product 0: Image too large")


def test_valid_input_without_model_is_503(small_limits, user):
    response = predict(small_limits, user.headers, {"designation": "Livre"})
    assert response.status_code == 503
    assert "Train a model" in response.json()["detail"]
