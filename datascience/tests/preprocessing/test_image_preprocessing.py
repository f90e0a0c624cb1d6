"""Image decoding, border cutting and square fitting on constructed images."""

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from product_classifier.paths import REAL_SAMPLE_DIR
from product_classifier.preprocessing.image import (
    DEFAULT_IMAGE_SIZE,
    JPEG_FORMATS,
    ImageDecodingError,
    content_box,
    crop_white_borders,
    decode_rgb,
    fit_to_square,
    load_rgb_image,
    open_image,
    optimise_image,
    reduce_while_decoding,
)

RED = (200, 20, 30)


def _framed(
    size: tuple[int, int], box: tuple[int, int, int, int], mode: str = "RGB"
) -> Image.Image:
    """A white image with a solid dark rectangle at ``box`` (right and bottom exclusive)."""
    white = 255 if mode == "L" else (255, 255, 255)
    dark = 40 if mode == "L" else RED
    image = Image.new(mode, size, white)
    image.paste(Image.new(mode, (box[2] - box[0], box[3] - box[1]), dark), box[:2])
    return image


def test_all_white_image_stays_as_is() -> None:
    image = Image.new("RGB", (120, 80), "white")
    assert crop_white_borders(image).size == (120, 80)
    assert content_box(image) == (0, 0, 120, 80)
    optimised = optimise_image(image, 32)
    assert optimised.size == (32, 32)
    assert np.asarray(optimised).min() == 255


def test_image_without_border_is_unchanged() -> None:
    image = Image.new("RGB", (90, 60), RED)
    cropped = crop_white_borders(image)
    assert cropped.size == (90, 60)
    assert np.array_equal(np.asarray(cropped), np.asarray(image))


def test_asymmetric_borders_are_cut_exactly() -> None:
    image = _framed((200, 100), (10, 20, 150, 90))
    assert content_box(image) == (10, 20, 150, 90)
    cropped = crop_white_borders(image)
    assert cropped.size == (140, 70)
    assert np.all(np.asarray(cropped) == RED)


def test_near_white_counts_as_border_and_threshold_is_respected() -> None:
    image = Image.new("RGB", (50, 50), (246, 246, 246))
    image.paste(Image.new("RGB", (10, 10), (230, 230, 230)), (5, 30))
    assert crop_white_borders(image).size == (10, 10)
    assert crop_white_borders(image, threshold=220).size == (50, 50)
    # One coloured channel under the threshold is content (a pale yellow is not white).
    pale = Image.new("RGB", (40, 40), "white")
    pale.paste(Image.new("RGB", (4, 4), (255, 255, 200)), (30, 2))
    assert content_box(pale) == (30, 2, 34, 6)


def test_grayscale_images_are_cropped_and_converted() -> None:
    gray = _framed((60, 40), (5, 0, 60, 30), mode="L")
    assert content_box(gray) == (5, 0, 60, 30)
    optimised = optimise_image(gray, 22)
    assert optimised.mode == "RGB"
    assert optimised.size == (22, 22)


def test_fit_to_square_keeps_ratio_and_centres_on_white() -> None:
    wide = Image.new("RGB", (300, 100), RED)
    square = fit_to_square(wide, 60)
    pixels = np.asarray(square)
    assert square.size == (60, 60)
    content_rows = np.flatnonzero((pixels < 240).any(axis=(1, 2)))
    assert (content_rows[0], content_rows[-1]) == (20, 39)  # 20 px of content, centred
    assert np.all(pixels[:20] == 255)
    assert np.all(pixels[40:] == 255)
    tall = fit_to_square(Image.new("RGB", (10, 40), RED), 40)
    columns = np.flatnonzero((np.asarray(tall) < 240).any(axis=(0, 2)))
    assert (columns[0], columns[-1]) == (15, 24)
    small = fit_to_square(Image.new("RGB", (5, 5), RED), 50)  # upscaled
    assert small.size == (50, 50)
    assert np.all(np.asarray(small)[20:30, 20:30] == RED)
    with pytest.raises(ValueError, match="positive"):
        fit_to_square(wide, 0)


def test_optimise_crops_then_fits_and_is_idempotent() -> None:
    image = _framed((500, 500), (100, 50, 300, 450))
    optimised = optimise_image(image)
    assert optimised.size == (DEFAULT_IMAGE_SIZE, DEFAULT_IMAGE_SIZE)
    columns = np.flatnonzero((np.asarray(optimised) < 240).any(axis=(0, 2)))
    assert columns[-1] - columns[0] + 1 == 112  # 200 x 400 content -> 112 x 224
    again = optimise_image(optimised)
    difference = np.abs(np.asarray(again, dtype=int) - np.asarray(optimised, dtype=int))
    assert difference.mean() < 1.0


def test_cmyk_jpeg_is_read_as_rgb(tmp_path: Path) -> None:
    path = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (40, 30), (0, 255, 255, 0)).save(path, format="JPEG", quality=95)
    image = load_rgb_image(path)
    assert image.mode == "RGB"
    assert image.size == (40, 30)
    red, green, blue = image.getpixel((20, 15))  # type: ignore[misc]
    assert red > 200
    assert green < 60
    assert blue < 60


def test_png_named_jpg_is_read(tmp_path: Path) -> None:
    path = tmp_path / "image_1_product_2.jpg"
    _framed((30, 30), (5, 5, 25, 25)).save(path, format="PNG")
    image = load_rgb_image(path)
    assert image.mode == "RGB"
    assert content_box(image) == (5, 5, 25, 25)


def test_transparency_is_composited_on_white(tmp_path: Path) -> None:
    rgba = Image.new("RGBA", (20, 20), (0, 0, 0, 0))
    rgba.paste(Image.new("RGBA", (10, 10), (0, 0, 255, 255)), (5, 5))
    path = tmp_path / "alpha.png"
    rgba.save(path)
    image = load_rgb_image(path)
    assert image.getpixel((0, 0)) == (255, 255, 255)
    assert image.getpixel((10, 10)) == (0, 0, 255)
    assert crop_white_borders(image).size == (10, 10)

    palette = Image.new("P", (10, 10), 0)
    palette.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    palette.paste(1, (2, 2, 6, 6))
    buffer = io.BytesIO()
    palette.save(buffer, format="PNG", transparency=0)
    converted = load_rgb_image(buffer.getvalue())
    assert converted.getpixel((0, 0)) == (255, 255, 255)
    assert converted.getpixel((3, 3)) == (255, 0, 0)


def test_grayscale_and_16_bit_files_become_rgb(tmp_path: Path) -> None:
    gray_path = tmp_path / "gray.jpg"
    Image.new("L", (16, 16), 100).save(gray_path, format="JPEG")
    red, green, blue = load_rgb_image(gray_path).getpixel((8, 8))  # type: ignore[misc]
    assert red == green == blue
    assert abs(red - 100) <= 2
    deep = Image.fromarray(np.full((8, 8), 65535, dtype=np.uint16))
    deep_path = tmp_path / "deep.png"
    deep.save(deep_path)
    assert load_rgb_image(deep_path).getpixel((4, 4)) == (255, 255, 255)


def test_mpo_gives_its_first_frame() -> None:
    buffer = io.BytesIO()
    frames = [Image.new("RGB", (40, 30), colour) for colour in (RED, (20, 30, 200))]
    frames[0].save(buffer, format="MPO", save_all=True, append_images=frames[1:])
    with open_image(buffer.getvalue()) as opened:
        assert opened.format in JPEG_FORMATS
    image = load_rgb_image(buffer.getvalue())
    assert image.size == (40, 30)
    assert np.abs(np.asarray(image, dtype=int) - RED).max() <= 8


def test_large_jpeg_is_decoded_at_a_reduced_scale_keeping_min_side() -> None:
    buffer = io.BytesIO()
    Image.linear_gradient("L").resize((1600, 1200)).convert("RGB").save(buffer, format="JPEG")
    assert load_rgb_image(buffer.getvalue(), min_side=140).size == (200, 150)  # 1/8
    assert load_rgb_image(buffer.getvalue(), min_side=300).size == (400, 300)  # 1/4
    assert load_rgb_image(buffer.getvalue(), min_side=2000).size == (1600, 1200)
    png = io.BytesIO()
    Image.new("RGB", (800, 600), RED).save(png, format="PNG")
    with open_image(png.getvalue()) as opened:
        assert reduce_while_decoding(opened, 10) == (800, 600)  # not a JPEG: full size
        assert decode_rgb(opened).size == (800, 600)


def test_bytes_and_streams_are_accepted_and_streams_left_open(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (12, 7), RED).save(buffer, format="JPEG")
    assert load_rgb_image(buffer.getvalue()).size == (12, 7)
    buffer.seek(0)
    assert load_rgb_image(buffer).size == (12, 7)
    assert not buffer.closed


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    image = Image.new("RGB", (40, 20), RED)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90 degrees
    path = tmp_path / "rotated.jpg"
    image.save(path, format="JPEG", exif=exif)
    assert load_rgb_image(path).size == (20, 40)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "not an image"),
        (b"this is not an image", "not an image"),
        (None, "(?i)truncated"),
    ],
)
def test_unreadable_data_raises_a_clear_error(
    tmp_path: Path, content: bytes | None, reason: str
) -> None:
    if content is None:  # a JPEG cut in the middle
        buffer = io.BytesIO()
        Image.effect_noise((64, 64), 50).convert("RGB").save(buffer, format="JPEG")
        content = buffer.getvalue()[:300]
    path = tmp_path / "image_9_product_9.jpg"
    path.write_bytes(content)
    with pytest.raises(ImageDecodingError, match=reason) as caught:
        load_rgb_image(path)
    assert "image_9_product_9.jpg" in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_missing_file_raises_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ImageDecodingError, match="file not found"):
        load_rgb_image(tmp_path / "absent.jpg")


def test_real_photo_is_optimised() -> None:
    images = REAL_SAMPLE_DIR / "images"
    if not images.is_dir():
        pytest.skip(f"real sample not found at {REAL_SAMPLE_DIR}")
    path = sorted(images.iterdir())[0]
    optimised = optimise_image(load_rgb_image(path), 64)
    assert optimised.size == (64, 64)
    assert optimised.mode == "RGB"
