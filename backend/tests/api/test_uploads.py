"""Uploads: a broken multipart body is a 400 (kind 5); MPO and CMYK JPEGs are accepted (kind 6).

A truncated upload never becomes a prediction made from the text alone; colour JPEGs that
phones (MPO) and print workflows (CMYK) produce are read as the logged model reads them
(first frame, converted to RGB), and what is not a JPEG is still refused.
"""

import base64
from typing import Any

import pytest
from sqlalchemy import func, select

from app.db.models import Prediction
from app.inference.images import EMPTY_IMAGE, INVALID_FORMAT, decode_jpeg
from product_classifier.preprocessing.image import load_rgb_image
from tests.helpers.images import cmyk_jpeg_bytes, image_bytes, mpo_bytes
from tests.helpers.predictions import assert_answer_stored

API = "/api/v1"
LIMITS: dict[str, Any] = {"max_bytes": 1_000_000, "max_pixels": 4_000_000}
TRUNCATED = (
    "Malformed multipart body: it ends before its closing boundary, so the upload is "
    "incomplete. Send the whole body (the last line is --BOUNDARY--)."
)
IMAGE_PART = (
    b'Content-Disposition: form-data; name="image"; filename="photo.jpg"\r\n'
    b"Content-Type: image/jpeg\r\n\r\n"
)
MULTIPART = {"Content-Type": "multipart/form-data; boundary=XyZ"}


def prediction_count(db) -> int:
    db.expire_all()
    return int(db.scalar(select(func.count()).select_from(Prediction)))


def post_raw(client, headers: dict[str, str], body: bytes, query: str = "") -> Any:
    return client.post(f"{API}/predict/{query}", content=body, headers={**headers, **MULTIPART})


# --- kind 5: truncated or malformed multipart bodies ------------------------------------------


def test_file_part_without_closing_boundary_is_400_and_nothing_is_stored(client, user, db):
    # The example: answered from the text alone, stored without the image.
    before = prediction_count(db)
    body = b"--XyZ\r\n" + IMAGE_PART + image_bytes("RGB", (200, 200))
    response = post_raw(client, user.headers, body, "?designation=Cahier")
    assert response.status_code == 400
    assert response.json() == {"detail": TRUNCATED}
    assert prediction_count(db) == before


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"--XyZ\r\nContent-Disposition: form-da", id="cut-in-part-headers"),
        pytest.param(
            b'--XyZ\r\nContent-Disposition: form-data; name="designation"\r\n\r\nCahier',
            id="text-field-without-end",
        ),
        pytest.param(b"--XyZ\r\n" + IMAGE_PART + image_bytes() + b"\r\n--XyZ", id="cut-in-end"),
        pytest.param(b"", id="empty-body"),
    ],
)
def test_every_truncated_multipart_body_is_400(client, user, db, body):
    before = prediction_count(db)
    response = post_raw(client, user.headers, body, "?designation=Cahier")
    assert response.status_code == 400
    assert response.json() == {"detail": TRUNCATED}
    assert prediction_count(db) == before


def test_a_body_that_is_not_multipart_is_400(client, user):
    response = post_raw(client, user.headers, b"this is not a multipart body", "?designation=x")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Malformed multipart body")


def test_truncated_login_form_in_multipart_is_400(client, admin):
    body = (
        b'--XyZ\r\nContent-Disposition: form-data; name="username"\r\n\r\n' + admin.email.encode()
    )
    response = client.post(f"{API}/login/access-token", content=body, headers=MULTIPART)
    assert response.status_code == 400
    assert response.json() == {"detail": TRUNCATED}


def test_complete_multipart_body_with_epilogue_is_accepted(client, user):
    body = b"--XyZ\r\n" + IMAGE_PART + image_bytes() + b"\r\n--XyZ--\r\nan epilogue"
    response = post_raw(client, user.headers, body, "?designation=Cahier")
    assert response.status_code == 200, response.text


# --- kind 6: colour JPEGs from phones (MPO) and print workflows (CMYK) -------------------------


def predict_with(client, headers: dict[str, str], data: bytes) -> Any:
    files = {"image": ("photo.jpg", data, "image/jpeg")}
    return client.post(
        f"{API}/predict/", params={"designation": "Peluche"}, files=files, headers=headers
    )


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(mpo_bytes(), id="mpo"),  # the example, with the next one
        pytest.param(cmyk_jpeg_bytes(), id="cmyk"),
        pytest.param(mpo_bytes(colours=("green", "white", "black")), id="mpo-3-frames"),
        pytest.param(cmyk_jpeg_bytes((640, 480), (255, 0, 0, 0)), id="cmyk-cyan-640x480"),
    ],
)
def test_mpo_and_cmyk_jpegs_are_predicted_and_stored(client, user, db, data):
    response = predict_with(client, user.headers, data)
    assert_answer_stored(db, response, user.id, designation="Peluche", image=data)


def test_mpo_and_cmyk_jpegs_in_a_batch(client, user):
    products = [
        {"designation": "Peluche", "image": base64.b64encode(data).decode()}
        for data in (mpo_bytes(), cmyk_jpeg_bytes())
    ]
    response = client.post(f"{API}/predict/batch", json=products, headers=user.headers)
    assert response.status_code == 200, response.text
    assert len(response.json()) == 2


def assert_red(image) -> None:
    assert image.mode == "RGB"
    red, green, blue = image.getpixel((5, 5))
    assert red >= 250
    assert max(green, blue) <= 5


def test_mpo_gives_its_first_frame_and_cmyk_is_rgb():
    assert_red(decode_jpeg(mpo_bytes(colours=("red", "blue")), **LIMITS).image)
    assert_red(decode_jpeg(cmyk_jpeg_bytes(), **LIMITS).image)


@pytest.mark.parametrize("data", [mpo_bytes(), cmyk_jpeg_bytes()], ids=["mpo", "cmyk"])
def test_the_api_reads_them_as_the_logged_model_does(data):
    """The API and the pyfunc (``mlflow models serve``) share one decoding."""
    assert decode_jpeg(data, **LIMITS).image.tobytes() == load_rgb_image(data).tobytes()


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(image_bytes("L"), id="grayscale-jpeg"),
        pytest.param(image_bytes("RGB", fmt="PNG"), id="png"),
        pytest.param(image_bytes("RGB", fmt="GIF"), id="gif"),
        pytest.param(image_bytes("RGB", fmt="TIFF"), id="tiff"),
        pytest.param(image_bytes("CMYK", fmt="TIFF"), id="cmyk-tiff"),
    ],
)
def test_what_is_not_a_colour_jpeg_is_still_refused(client, user, data):
    response = predict_with(client, user.headers, data)
    assert response.status_code == 400
    detail = response.json()["detail"]
    # Another format sent as photo.jpg (image/jpeg) is also said not to match its real format.
    assert detail.startswith("Invalid image format")
    assert detail.endswith(INVALID_FORMAT.removeprefix("Invalid image format."))


# --- a browser form: a file input left empty, file names with NUL ------------------------------

EMPTY_FILE_INPUT = (
    b'--XyZ\r\nContent-Disposition: form-data; name="designation"\r\n\r\nCahier A4\r\n'
    b'--XyZ\r\nContent-Disposition: form-data; name="image"; filename=""\r\n'
    b"Content-Type: application/octet-stream\r\n\r\n\r\n--XyZ--\r\n"
)


def test_a_file_input_left_empty_is_no_image(client, user, db):
    # What a browser sends for <input type="file"> with no file chosen.
    response = post_raw(client, user.headers, EMPTY_FILE_INPUT)
    assert response.status_code == 200, response.text
    row = assert_answer_stored(db, response, user.id, designation="Cahier A4")
    assert row.image_sha256 is None


@pytest.mark.parametrize("content_type", [b"application/octet-stream", b"image/jpeg"])
def test_an_empty_file_with_a_name_is_a_400_saying_it_is_empty(client, user, db, content_type):
    # What a browser sends for an empty photo.jpg chosen in the file input.
    before = prediction_count(db)
    body = EMPTY_FILE_INPUT.replace(b'filename=""', b'filename="photo.jpg"')
    body = body.replace(b"application/octet-stream", content_type)
    response = post_raw(client, user.headers, body)
    assert (response.status_code, response.json()) == (400, {"detail": EMPTY_IMAGE})
    assert prediction_count(db) == before


def test_a_jpeg_part_declared_as_text_is_400_and_nothing_is_stored(client, user, db):
    before = prediction_count(db)
    body = (
        b'--XyZ\r\nContent-Disposition: form-data; name="designation"\r\n\r\nCahier A4\r\n'
        b"--XyZ\r\n"
        + IMAGE_PART.replace(b"image/jpeg", b"text/plain")
        + image_bytes()
        + b"\r\n--XyZ--\r\n"
    )
    response = post_raw(client, user.headers, body)
    assert response.status_code == 400, response.text
    assert response.json()["detail"].startswith(
        "Image format mismatch: the declared content type text/plain does not match the "
        "image's real format, JPEG."
    )
    assert prediction_count(db) == before


@pytest.mark.parametrize("name", [b"a\x00.jpg", b"a%00.jpg\x00"])
def test_a_file_name_holding_nul_is_422(client, user, db, name):
    before = prediction_count(db)
    part = IMAGE_PART.replace(b"photo.jpg", name)
    body = b"--XyZ\r\n" + part + image_bytes() + b"\r\n--XyZ--\r\n"
    response = post_raw(client, user.headers, body, "?designation=Cahier")
    assert response.status_code == 422, response.text
    assert prediction_count(db) == before


# --- a field POST /predict/ does not take is refused, as in the JSON bodies ---------------------


MISSPELT = {
    "query": ({"designation": "Cahier", "descripton": "96 pages"}, None, ("query", "descripton")),
    "form text": (
        {"limit": "3"},
        {"designation": "Cahier", "descripton": "96 pages"},
        ("body", "descripton"),
    ),
    "form image": ({"limit": "3"}, {"designation": "Cahier", "images": "x"}, ("body", "images")),
}


@pytest.mark.parametrize("case", list(MISSPELT))
def test_a_misspelt_field_is_a_422_not_a_lost_text(client, user, db, case):
    query, form, (where, name) = MISSPELT[case]
    before = prediction_count(db)
    response = client.post(f"{API}/predict/", params=query, data=form, headers=user.headers)
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == [
        {"loc": [where, name], "msg": "Extra inputs are not permitted", "type": "extra_forbidden"}
    ]
    assert prediction_count(db) == before


def test_the_fields_predict_takes_are_still_taken(client, user):
    response = client.post(
        f"{API}/predict/",
        params={"limit": "2"},
        data={"designation": "Cahier", "description": "96 pages"},
        files={"image": ("photo.jpg", image_bytes(), "image/jpeg")},
        headers=user.headers,
    )
    assert response.status_code == 200, response.text
    assert len(response.json()) == 2
