"""create_datasets end to end (real and generated samples) and each validation error."""

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from product_classifier.data.creation import CreationOptions, create_datasets
from product_classifier.data.dataset_folder import has_images, image_paths, read_split
from product_classifier.data.original import DatasetError, read_original
from product_classifier.data.output_folder import OutputExistsError, OutputWouldReplaceError
from product_classifier.paths import REAL_SAMPLE_DIR
from product_classifier.preprocessing.image import load_rgb_image, optimise_image, save_jpeg
from product_classifier.synthetic.generator import write_sample_dataset
from scripts import create_datasets as cli

CODES = (10, 2583, 1560)


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _image_name(features: pd.DataFrame, row: int) -> str:
    record = features.to_dict("index")[row]
    return f"image_{record['imageid']}_product_{record['productid']}.jpg"


def _write_original(folder: Path, rows_per_code: int = 4) -> Path:
    """A tiny valid original data folder: 3 categories, photos with white margins."""
    codes = np.repeat(CODES, rows_per_code)
    features = pd.DataFrame(
        {
            "designation": [f"Produit {i}" for i in range(len(codes))],
            "description": ["<p>Tr&egrave;s bien</p>" if i % 3 else "" for i in range(len(codes))],
            "productid": [1000 + i for i in range(len(codes))],
            "imageid": [5000 + i for i in range(len(codes))],
        }
    )
    (folder / "images").mkdir(parents=True)
    features.to_csv(folder / "X.csv")
    pd.DataFrame({"prdtypecode": codes}).to_csv(folder / "y.csv")
    for row in range(len(features)):
        image = Image.new("RGB", (60, 40), "white")
        image.paste(Image.new("RGB", (30, 20), (20 * row, 90, 160)), (5, 10))
        image.save(folder / "images" / _image_name(features, row), format="JPEG")
    return folder


def _options(input_dir: Path, output_dir: Path, **overrides: object) -> CreationOptions:
    values: dict[str, object] = {"workers": 1, "image_size": 16} | overrides
    return CreationOptions(input_dir=input_dir, output_dir=output_dir, **values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def generated_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("generated") / "sample"
    write_sample_dataset(folder, n_products=120, seed=8, workers=1)
    return folder


def test_generated_sample_end_to_end_through_the_cli(
    generated_sample: Path, tmp_path: Path
) -> None:
    output = tmp_path / "dataset"
    code = cli.main(
        [
            "--input-dir", str(generated_sample), "--output-dir", str(output),
            "--train-size", "0.6", "--test-size", "0.2", "--random-state", "3",
            "--workers", "2", "--image-size", "32",
        ]
    )  # fmt: skip
    assert code == 0
    original = read_original(generated_sample)
    train_x, train_y = read_split(output, "train")
    test_x, test_y = read_split(output, "test")
    remaining = read_original(output / "remaining")
    assert len(train_x) + len(test_x) + len(remaining.X) == 120
    assert len(remaining.X) >= 15
    assert set(train_x.index) | set(test_x.index) | set(remaining.X.index) == set(original.X.index)
    assert 24 <= len(test_x) <= 30
    assert set(train_y) == set(original.y)  # every category is learned
    pd.testing.assert_frame_equal(test_x, original.X.loc[test_x.index])
    pd.testing.assert_series_equal(test_y, original.y.loc[test_y.index])
    header = (output / "X_train.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == (generated_sample / "X.csv").read_text(encoding="utf-8").splitlines()[0]

    paths = image_paths(output, pd.concat([train_x, test_x]))
    assert sorted(path.name for path in (output / "images").iterdir()) == sorted(
        p.name for p in paths
    )
    for path in paths[:5]:
        with Image.open(path) as image:
            assert (image.format, image.size, image.mode) == ("JPEG", (32, 32), "RGB")
        # Exactly what the shared preprocessing makes of the original photo.
        source = generated_sample / "images" / path.name
        save_jpeg(optimise_image(load_rgb_image(source), 32), tmp_path / "expected.jpg")
        assert _md5(path) == _md5(tmp_path / "expected.jpg")
    # Remaining rows keep the original format and the original image files.
    for name in (p.name for p in (output / "remaining" / "images").iterdir()):
        assert _md5(output / "remaining" / "images" / name) == _md5(
            generated_sample / "images" / name
        )
    assert len(list((output / "remaining" / "images").iterdir())) == len(remaining.X)

    info = json.loads((output / "dataset_info.json").read_text(encoding="utf-8"))
    assert info["rows"] == {
        "train": len(train_x),
        "test": len(test_x),
        "remaining": len(remaining.X),
    }
    assert info["image_size"] == 32
    # No temporary folder left beside the output.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dataset", "expected.jpg"]


def test_text_only_needs_no_images(tmp_path: Path) -> None:
    source = _write_original(tmp_path / "original")
    for image in (source / "images").iterdir():
        image.unlink()
    (source / "images").rmdir()
    summary = create_datasets(_options(source, tmp_path / "out", text_only=True))
    assert summary.images_written == 0
    assert not has_images(tmp_path / "out")
    assert summary.info.rows == {"train": 9, "test": 3, "remaining": 0}
    assert summary.info.image_size is None


def _real_sample() -> Path:
    if not (REAL_SAMPLE_DIR / "X.csv").is_file():
        pytest.skip(f"real sample not found at {REAL_SAMPLE_DIR}")
    return REAL_SAMPLE_DIR


def test_real_sample_text_only_keeps_every_row(tmp_path: Path) -> None:
    summary = create_datasets(_options(_real_sample(), tmp_path / "text", text_only=True))
    assert summary.info.rows["train"] + summary.info.rows["test"] == 1236
    assert summary.info.rows["test"] == round(1236 * 0.2)
    train_x, _ = read_split(tmp_path / "text", "train")
    assert (train_x["description"] == "").mean() > 0.3
    assert not has_images(tmp_path / "text")


@pytest.mark.slow
def test_real_sample_with_dropped_missing_images(tmp_path: Path) -> None:
    options = _options(_real_sample(), tmp_path / "multimodal", drop_missing_images=True, workers=2)
    summary = create_datasets(options)
    assert summary.info.dropped_missing_images == 933
    assert summary.info.rows["train"] + summary.info.rows["test"] == 303
    assert summary.images_written == 303
    train_x, _ = read_split(tmp_path / "multimodal", "train")
    assert all(path.is_file() for path in image_paths(tmp_path / "multimodal", train_x))


def test_real_sample_missing_images_are_listed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["--input-dir", str(_real_sample()), "--output-dir", str(tmp_path / "out")])
    assert code == 2
    error = capsys.readouterr().err
    assert "933 of 1236 rows have no image file" in error
    assert "row 4 (image_1077757786_product_278535884.jpg)" in error
    assert "(and 913 more)" in error
    assert "--drop-missing-images" in error
    assert not (tmp_path / "out").exists()


def _remove(name: str) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        target = folder / name
        if target.is_dir():
            for child in target.iterdir():
                child.unlink()
            target.rmdir()
        else:
            target.unlink()

    return apply


def _write(name: str, content: bytes) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        (folder / name).write_bytes(content)

    return apply


def _empty_csv_files(folder: Path) -> None:
    _edit_csv("X.csv", lambda table: table.iloc[:0])(folder)
    _edit_csv("y.csv", lambda table: table.iloc[:0])(folder)


def _edit_csv(name: str, edit: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        table = pd.read_csv(folder / name, index_col=0, dtype=str, keep_default_na=False)
        table.index = table.index.astype(int)
        edit(table).to_csv(folder / name)

    return apply


def _set(column: str, row: int, value: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def edit(table: pd.DataFrame) -> pd.DataFrame:
        table.loc[row, column] = value
        return table

    return edit


def _break_image(row: int, content: bytes | None) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        features = pd.read_csv(folder / "X.csv", index_col=0)
        path = folder / "images" / _image_name(features, row)
        if content is None:
            path.write_bytes(path.read_bytes()[:200])  # truncated JPEG
        else:
            path.write_bytes(content)

    return apply


def _delete_images(*rows: int) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        features = pd.read_csv(folder / "X.csv", index_col=0)
        for row in rows:
            (folder / "images" / _image_name(features, row)).unlink()

    return apply


BROKEN_INPUTS = {
    "missing X.csv": (_remove("X.csv"), r"missing X\.csv \(an original data folder holds"),
    "missing y.csv": (_remove("y.csv"), r"missing y\.csv"),
    "missing images folder": (_remove("images"), r"missing images/"),
    "binary X.csv": (
        _write("X.csv", bytes(range(256)) * 4),
        r"Unreadable X\.csv: .* not a valid CSV",
    ),
    "empty y.csv": (_write("y.csv", b""), r"Unreadable y\.csv: .* is empty"),
    "X.csv without description": (
        _edit_csv("X.csv", lambda t: t.drop(columns="description")),
        r"Invalid X\.csv: missing column\(s\) description .* Expected an unnamed index column",
    ),
    "y.csv without prdtypecode": (
        _edit_csv("y.csv", lambda t: t.rename(columns={"prdtypecode": "category"})),
        r"Invalid y\.csv: missing column\(s\) prdtypecode .* found category",
    ),
    "rows differ": (
        _edit_csv("y.csv", lambda t: t.drop(index=[5, 7])),
        r"Mismatched X\.csv and y\.csv .*: their row indexes differ \(2 only in X\.csv: 5, 7\)",
    ),
    "duplicated index": (
        _edit_csv("X.csv", lambda t: t.rename(index={3: 2})),
        r"1 duplicated row index value\(s\) in .*X\.csv: 2",
    ),
    "non-integer productid": (
        _edit_csv("X.csv", _set("productid", 3, "abc")),
        r"column productid must hold non-negative integers; 1 row\(s\) do not: row 3 \('abc'\)",
    ),
    "unknown category code": (
        _edit_csv("y.csv", _set("prdtypecode", 2, "9999")),
        r"1 row\(s\) have an unknown category code .* row 2 \('9999'\)",
    ),
    "category name instead of code": (
        _edit_csv("y.csv", _set("prdtypecode", 6, "Livre")),
        r"unknown category code .* row 6 \('Livre'\)",
    ),
    "no rows": (_empty_csv_files, r"Invalid X\.csv: .* has no rows"),
    "missing image files": (
        _delete_images(0, 11),
        r"2 of 12 rows have no image file in .*images: row 0 \(image_5000_product_1000\.jpg\), "
        r"row 11 \(image_5011_product_1011\.jpg\)\. Add the files, drop these rows "
        r"\(--drop-missing-images\), keep them without their image \(--mixed\) or make a "
        r"text-only dataset \(--text-only\)",
    ),
    "text file named .jpg": (
        _break_image(4, b"<html>not found</html>"),
        r"1 unreadable image file\(s\) in .*: image_5004_product_1004\.jpg \(not an image",
    ),
    "truncated JPEG": (
        _break_image(7, None),
        r"1 unreadable image file\(s\) in .*: image_5007_product_1007\.jpg \(.*(?i:truncated)",
    ),
}


@pytest.mark.parametrize("case", list(BROKEN_INPUTS))
def test_invalid_input_is_reported_clearly(tmp_path: Path, case: str) -> None:
    breaker, message = BROKEN_INPUTS[case]
    source = _write_original(tmp_path / "original")
    breaker(source)
    with pytest.raises(DatasetError, match=message):
        create_datasets(_options(source, tmp_path / "out"))
    # Nothing written, no temporary folder left beside the output.
    assert sorted(path.name for path in tmp_path.iterdir()) == ["original"]


def test_missing_input_folder(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"Input folder .*absent does not exist"):
        create_datasets(_options(tmp_path / "absent", tmp_path / "out"))


def test_dropping_missing_images_counts_them(tmp_path: Path) -> None:
    source = _write_original(tmp_path / "original")
    _delete_images(0, 5, 11)(source)
    summary = create_datasets(_options(source, tmp_path / "out", drop_missing_images=True))
    assert summary.info.dropped_missing_images == 3
    assert summary.info.rows["train"] + summary.info.rows["test"] == 9
    assert summary.images_written == 9


def test_no_row_with_its_image(tmp_path: Path) -> None:
    source = _write_original(tmp_path / "original")
    _delete_images(*range(12))(source)
    with pytest.raises(DatasetError, match=r"No row of .* has its image file"):
        create_datasets(_options(source, tmp_path / "out", drop_missing_images=True))


def test_existing_output_is_refused_then_overwritten(tmp_path: Path) -> None:
    source = _write_original(tmp_path / "original")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "old.txt").write_text("old")
    with pytest.raises(OutputExistsError, match=r"Output folder .*out exists already"):
        create_datasets(_options(source, tmp_path / "out"))
    assert (tmp_path / "out" / "old.txt").exists()
    create_datasets(_options(source, tmp_path / "out", overwrite=True))
    assert not (tmp_path / "out" / "old.txt").exists()
    assert (tmp_path / "out" / "X_train.csv").exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["original", "out"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"train_size": 0.9, "test_size": 0.2}, "exceeds 1"),
        ({"image_size": 0}, "image size must be a positive"),
        ({"workers": 0}, "workers must be at least 1"),
    ],
)
def test_invalid_options(tmp_path: Path, overrides: dict[str, object], message: str) -> None:
    source = _write_original(tmp_path / "original")
    with pytest.raises(DatasetError, match=message):
        create_datasets(_options(source, tmp_path / "out", **overrides))


def test_output_never_replaces_the_input(tmp_path: Path) -> None:
    source = _write_original(tmp_path / "raw")
    # The input itself, or the folder holding it (--input-dir var/data/raw --output-dir var/data).
    for output in (source, tmp_path):
        with pytest.raises(OutputWouldReplaceError, match="would replace the input folder"):
            create_datasets(_options(source, output, overwrite=True))
    assert (source / "X.csv").is_file()


def test_cli_help_and_exclusive_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as help_exit:
        cli.main(["--help"])
    assert help_exit.value.code == 0
    assert "--drop-missing-images" in capsys.readouterr().out
    with pytest.raises(SystemExit) as usage_exit:
        cli.main(["--input-dir", "a", "--output-dir", "b", "--text-only", "--drop-missing-images"])
    assert usage_exit.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err
