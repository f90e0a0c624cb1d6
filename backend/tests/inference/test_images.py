"""Image checks: colour JPEG only, size caps enforced before decoding."""

import base64
import io
import time
from typing import Any

import pytest
from PIL import Image

from app.inference.images import (
    EMPTY_IMAGE,
    INVALID_EXTENSION,
    INVALID_FORMAT,
    ImageRejectedError,
    declarations,
    decode_base64_jpeg,
    decode_jpeg,
    format_mismatch,
    has_jpeg_extension,
    split_data_url,
    wrong_name_message,
)
from product_classifier.paths import REAL_SAMPLE_DIR
from tests.helpers.images import image_bytes, with_jpeg_dimensions

LIMITS: dict[str, Any] = {"max_bytes": 1_000_000, "max_pixels": 4_000_000}
ORIENTATION = 0x0112
"""The EXIF tag of a photo's orientation (6: turned 90 degrees)."""


def rejected(data: bytes, **limits: int) -> ImageRejectedError:
    with pytest.raises(ImageRejectedError) as caught:
        decode_jpeg(data, **(LIMITS | limits))
    return caught.value


def test_colour_jpeg_is_decoded():
    data = image_bytes("RGB", (80, 60))
    decoded = decode_jpeg(data, **LIMITS)
    assert decoded.image.mode == "RGB"
    assert decoded.image.size == (80, 60)
    assert (decoded.width, decoded.height, decoded.size_bytes) == (80, 60, len(data))
    assert len(decoded.sha256) == 64


@pytest.mark.parametrize("min_side", [None, 16])
@pytest.mark.parametrize(
    ("orientation", "upright"),
    [(1, (80, 40)), (2, (80, 40)), (3, (80, 40)), (5, (40, 80)), (6, (40, 80)), (8, (40, 80))],
)
def test_the_stored_size_is_the_upright_pictures(
    orientation: int, upright: tuple[int, int], min_side: int | None
) -> None:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    buffer = io.BytesIO()
    Image.new("RGB", (80, 40), "red").save(buffer, "JPEG", exif=exif.tobytes())

    decoded = decode_jpeg(buffer.getvalue(), **LIMITS, min_side=min_side)

    assert (decoded.width, decoded.height) == upright
    assert (decoded.image.width > decoded.image.height) == (upright[0] > upright[1])


def test_real_sample_jpeg_is_decoded():
    images = sorted((REAL_SAMPLE_DIR / "images").glob("*.jpg"))[:3]
    if not images:
        pytest.skip(f"The real sample is absent ({REAL_SAMPLE_DIR})")
    for path in images:
        assert decode_jpeg(path.read_bytes(), **LIMITS).image.mode == "RGB"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(image_bytes("L"), id="grayscale-jpeg"),
        pytest.param(image_bytes("RGB", fmt="PNG"), id="png"),
        pytest.param(image_bytes("RGB", fmt="WEBP"), id="webp"),
        pytest.param(image_bytes("RGBA", fmt="PNG"), id="rgba-png"),
        pytest.param(b"Hello world", id="not-an-image"),
        pytest.param(image_bytes("RGB", (300, 300))[:400], id="truncated-jpeg"),
    ],
)
def test_anything_but_a_colour_jpeg_is_a_400(data):
    error = rejected(data)
    assert error.status_code == 400
    assert error.detail == INVALID_FORMAT


def test_an_empty_file_is_a_400_saying_so():
    error = rejected(b"")
    assert (error.status_code, error.detail) == (400, EMPTY_IMAGE)
    for encoded in ("", "data:image/jpeg;base64,", "DATA:;BASE64,\n"):
        with pytest.raises(ImageRejectedError) as caught:
            decode_base64_jpeg(encoded, **LIMITS)
        assert (caught.value.status_code, caught.value.detail) == (400, EMPTY_IMAGE)


def test_oversized_file_is_a_413():
    error = rejected(image_bytes("RGB", (200, 200)), max_bytes=100)
    assert error.status_code == 413
    assert "bytes" in error.detail


def test_too_many_pixels_is_a_413_before_decoding():
    bomb = with_jpeg_dimensions(image_bytes("RGB", (64, 64)), 5000, 5000)
    started = time.perf_counter()
    error = rejected(bomb)
    assert error.status_code == 413
    assert "25000000 pixels" in error.detail
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(("side", "max_pixels"), [(60000, 10**10), (65500, 16_000_000)])
def test_decompression_bomb_beyond_pillow_limit_is_a_413_naming_our_limit(side, max_pixels):
    # Pillow refuses such a header itself; the answer is worded as our own limit's.
    bomb = with_jpeg_dimensions(image_bytes("RGB", (64, 64)), side, side)
    error = rejected(bomb, max_pixels=max_pixels)
    assert error.status_code == 413
    assert error.detail == (f"Image too large: {side * side} pixels (maximum {max_pixels} pixels).")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.jpg", True),
        ("b.JPEG", True),
        ("c.jpeg", True),
        ("d.png", False),
        ("jpg", False),
        (None, False),
    ],
)
def test_jpeg_extension(name, expected):
    assert has_jpeg_extension(name) is expected


def test_base64_jpeg_with_and_without_data_uri():
    data = image_bytes("RGB")
    encoded = base64.b64encode(data).decode()
    assert decode_base64_jpeg(encoded, **LIMITS).sha256 == decode_jpeg(data, **LIMITS).sha256
    uri = "data:image/jpeg;base64," + encoded
    assert decode_base64_jpeg(uri, **LIMITS).size_bytes == len(data)


def test_invalid_base64_is_a_400():
    with pytest.raises(ImageRejectedError) as caught:
        decode_base64_jpeg("@@@not base64@@@", **LIMITS)
    assert caught.value.status_code == 400


def test_oversized_base64_is_refused_before_decoding():
    with pytest.raises(ImageRejectedError) as caught:
        decode_base64_jpeg("A" * 4000, max_bytes=1000, max_pixels=100)
    assert caught.value.status_code == 413


@pytest.mark.parametrize("size", [9, 10, 11, 12])
def test_a_base64_image_is_measured_at_its_decoded_size(size: int) -> None:
    encoded = base64.b64encode(b"\xff" * size).decode()  # padded with "=" unless size % 3 == 0
    with pytest.raises(ImageRejectedError) as refused:
        decode_base64_jpeg(encoded, max_bytes=10, max_pixels=100)
    if size <= 10:  # not too large: read, and refused as the JPEG it is not
        assert refused.value.status_code == 400
    else:
        assert refused.value.status_code == 413
        assert refused.value.detail == f"Image too large: {size} bytes (maximum 10 bytes)."


@pytest.mark.parametrize(
    ("filename", "content_type", "data", "expected"),
    [
        ("a.jpg", "image/jpeg", image_bytes(), None),
        ("a.JPEG", "image/pjpeg", image_bytes(), None),
        ("a.jpg", None, image_bytes(), None),
        (None, "application/octet-stream", image_bytes(), None),
        ("a.jpg", "image/*", image_bytes(), None),
        ("a.mpo", None, image_bytes(), None),  # an MPO is a JPEG
        ("a.jpg", "image/jpeg", b"not an image", None),  # nothing to compare with
        ("a.png", "image/png", image_bytes(fmt="PNG"), None),
        ("a.jpg", "*/*", image_bytes(), None),
        ("a.jpg", "Application/Octet-Stream; x=y", image_bytes(), None),
        ("a.jpg", "text/plain", b"", None),  # no image to compare with
        (
            "a.jpg",
            "text/plain; charset=utf-8",
            image_bytes(),
            "Image format mismatch: the declared content type text/plain does not match the "
            "image's real format, JPEG.",
        ),
        (
            None,
            "application/json",
            image_bytes(),
            "Image format mismatch: the declared content type application/json does not match "
            "the image's real format, JPEG.",
        ),
        (
            "a.png",
            "text/html",
            image_bytes(fmt="PNG"),
            "Invalid image format: the declared content type text/html does not match the "
            "image's real format, PNG.",
        ),
        (
            "a.png",
            None,
            image_bytes(),
            "Image format mismatch: the file name's extension .png does not match the image's "
            "real format, JPEG.",
        ),
        (
            "a.jpg",
            "IMAGE/PNG; x=y",
            image_bytes(),
            "Image format mismatch: the declared content type image/png does not match the "
            "image's real format, JPEG.",
        ),
        (
            "a.jpg",
            "image/png",
            image_bytes(fmt="GIF"),
            "Invalid image format: the file name's extension .jpg and the declared content type "
            "image/png do not match the image's real format, GIF.",
        ),
    ],
)
def test_a_declared_format_is_compared_with_the_real_one(filename, content_type, data, expected):
    found = format_mismatch(data, declarations(filename, content_type))
    if expected is None:
        assert found is None
    else:
        assert found is not None
        assert found.startswith(expected)


def test_a_wrong_name_says_whether_the_bytes_contradict_it():
    jpeg, png = image_bytes(), image_bytes(fmt="PNG")
    assert wrong_name_message(png, "a.png", "image/jpeg") == INVALID_EXTENSION
    assert wrong_name_message(jpeg, "photo", "image/png") == INVALID_EXTENSION
    assert wrong_name_message(jpeg, "a.png", "image/jpeg").startswith(
        "Image format mismatch: the file name's extension .png does not match"
    )


def test_a_data_url_media_type_is_compared_with_the_real_format():
    encoded = base64.b64encode(image_bytes()).decode()
    assert decode_base64_jpeg("data:image/jpg;base64," + encoded, **LIMITS).size_bytes > 0
    with pytest.raises(ImageRejectedError) as caught:
        decode_base64_jpeg("data:image/png;base64," + encoded, **LIMITS)
    assert caught.value.status_code == 400
    assert "data URL's media type image/png does not match the image's real format, JPEG" in (
        caught.value.detail
    )


@pytest.mark.parametrize(
    ("encoded", "expected"),
    [
        ("/9j/4A==", (None, "/9j/4A==")),
        ("data:image/jpeg;base64,/9j/", ("image/jpeg", "/9j/")),
        ("DATA:IMAGE/PNG;BASE64,/9j/", ("image/png", "/9j/")),
        ("Data:Text/Plain;Charset=US-ASCII;Base64,/9j/", ("text/plain", "/9j/")),
        ("data:;base64,/9j/", (None, "/9j/")),
        ("data:base64,/9j/", (None, "/9j/")),
        ("data:,/9j/", (None, "/9j/")),
        ("data: image/jpeg ; base64 ,/9j/", ("image/jpeg", "/9j/")),
        ("data:image/jpeg;base64", (None, "data:image/jpeg;base64")),  # no comma: no data URL
    ],
)
def test_a_data_url_is_read_in_any_case(encoded, expected):
    assert split_data_url(encoded) == expected


@pytest.mark.parametrize("media_type", ["text/plain", "TEXT/PLAIN", "application/pdf"])
def test_a_data_url_naming_no_image_type_is_a_mismatch(media_type):
    encoded = base64.b64encode(image_bytes()).decode()
    with pytest.raises(ImageRejectedError) as caught:
        decode_base64_jpeg(f"data:{media_type};base64," + encoded, **LIMITS)
    assert caught.value.status_code == 400
    assert caught.value.detail.startswith(
        f"Image format mismatch: the data URL's media type {media_type.lower()} does not match "
        "the image's real format, JPEG."
    )


@pytest.mark.parametrize("scheme", ["DATA:IMAGE/JPEG;BASE64,", "Data:image/JPG;Base64,"])
def test_a_data_url_in_capitals_is_decoded(scheme):
    data = image_bytes()
    decoded = decode_base64_jpeg(scheme + base64.b64encode(data).decode(), **LIMITS)
    assert decoded.sha256 == decode_jpeg(data, **LIMITS).sha256
