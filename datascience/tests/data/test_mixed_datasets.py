"""Mixed datasets: rows with text, an image or both, and what each model kind trains on."""

import json
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from product_classifier.data.creation import create_datasets
from product_classifier.data.dataset_folder import image_paths, read_split
from product_classifier.data.original import DatasetError
from product_classifier.paths import REAL_SAMPLE_DIR
from product_classifier.training.checkpoints import RunFiles
from product_classifier.training.image_task import ImageTask
from product_classifier.training.split_data import load_split_data
from product_classifier.training.task import MAIN_VIEW
from product_classifier.training.text_task import TextTask
from scripts import create_datasets as cli
from tests.data.test_create_datasets import _image_name, _options, _write_original

ROWS_PER_CODE = 6


def _write_mixed_original(folder: Path) -> Path:
    """18 text rows (the last one of each category without its image) and 6 labelled images
    without a text row (plus one listed twice and one whose file is absent)."""
    _write_original(folder, rows_per_code=ROWS_PER_CODE)
    features = pd.read_csv(folder / "X.csv", index_col=0)
    for row in range(ROWS_PER_CODE - 1, len(features), ROWS_PER_CODE):
        (folder / "images" / _image_name(features, row)).unlink()
    labels = []
    for number, code in enumerate((10, 10, 2583, 2583, 1560, 1560)):
        productid, imageid = 9000 + number, 7000 + number
        Image.new("RGB", (40, 40), (number * 30, 120, 60)).save(
            folder / "images" / f"image_{imageid}_product_{productid}.jpg", format="JPEG"
        )
        labels.append((f"image_{imageid}_product_{productid}.jpg", productid, imageid, code))
    labels.append(labels[0])  # listed twice: one row
    labels.append(("absent.jpg", 9999, 7999, 10))  # no file: left out
    # A labelled image that has its text row: not added again.
    first = features.iloc[0]
    labels.append(("x.jpg", int(first["productid"]), int(first["imageid"]), 10))
    pd.DataFrame(labels, columns=["image_name", "productid", "imageid", "prdtypecode"]).to_csv(
        folder / "image_labels.csv", index=False
    )
    return folder


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mixed")
    original = _write_mixed_original(root / "original")
    output = root / "dataset"
    create_datasets(_options(original, output, mixed=True, train_size=0.5, test_size=0.5))
    return output


def test_mixed_dataset_keeps_text_rows_without_images_and_adds_image_only_rows(mixed) -> None:
    info = json.loads((mixed / "dataset_info.json").read_text())
    assert info["mixed"]
    assert (info["rows_without_image"], info["image_only_rows"]) == (3, 6)
    assert info["rows"]["train"] + info["rows"]["test"] == 18 + 6
    rows = pd.concat([read_split(mixed, "train")[0], read_split(mixed, "test")[0]])
    assert not rows.index.duplicated().any()
    image_only = rows[(rows["designation"] == "") & (rows["description"] == "")]
    assert sorted(image_only["productid"]) == list(range(9000, 9006))
    assert (image_only.index > 17).all(), "new row indexes follow those of X.csv"
    has_image = [path.is_file() for path in image_paths(mixed, rows)]
    assert sum(has_image) == 18 - 3 + 6
    assert all(has_image[position] for position in range(len(rows)) if rows.index[position] > 17)


def test_each_split_mixes_every_kind_of_row(mixed) -> None:
    for split in ("train", "test"):
        features, _ = read_split(mixed, split)
        texts = (features["designation"] != "").to_numpy()
        images = [path.is_file() for path in image_paths(mixed, features)]
        assert any(text and not image for text, image in zip(texts, images, strict=True)), split
        assert any(image and not text for text, image in zip(texts, images, strict=True)), split


def test_text_model_reads_the_rows_with_text_only(mixed, tmp_path, caplog) -> None:
    data = load_split_data(mixed)
    files = RunFiles(tmp_path)
    with caplog.at_level("INFO"):
        prepared = TextTask().prepare(data, files, batch_size=8)
    total = len(data.train) + len(data.validation) + len(data.test)
    kept = len(prepared.train) + len(prepared.validation) + len(prepared.test_views[MAIN_VIEW])
    assert kept == total - 6
    assert "have no text (image only) and are left out" in caplog.text


def test_image_model_reads_every_row_with_an_image(mixed) -> None:
    data = load_split_data(mixed)
    task = ImageTask(image_size=32, weights="none")
    counted = sum(
        len(task.labelled(mixed, rows, part))
        for rows, part in (
            (data.train, "training"),
            (data.validation, "validation"),
            (data.test, "test"),
        )
    )
    assert counted == 18 - 3 + 6


def test_mixed_excludes_the_other_image_options(tmp_path, capsys) -> None:
    original = _write_original(tmp_path / "original")
    for flag in ("--text-only", "--drop-missing-images"):
        with pytest.raises(SystemExit):
            cli.main(
                [
                    "--input-dir",
                    str(original),
                    "--output-dir",
                    str(tmp_path / "out"),
                    "--mixed",
                    flag,
                ]
            )
        assert "not allowed with argument" in capsys.readouterr().err
    with pytest.raises(DatasetError, match="exclude each other"):
        create_datasets(_options(original, tmp_path / "out", mixed=True, text_only=True))


def test_invalid_image_labels_are_one_clear_error(tmp_path) -> None:
    original = _write_original(tmp_path / "original")
    (original / "image_labels.csv").write_text(
        "image_name,productid,imageid,prdtypecode\nx.jpg,1,2,99\n"
    )
    with pytest.raises(
        DatasetError, match=r"image_labels.csv: 1 row\(s\) have an unknown category code"
    ):
        create_datasets(_options(original, tmp_path / "out", mixed=True))
    (original / "image_labels.csv").write_text("productid,imageid\n1,2\n")
    with pytest.raises(DatasetError, match="missing column"):
        create_datasets(_options(original, tmp_path / "out", mixed=True))


@pytest.mark.skipif(not REAL_SAMPLE_DIR.is_dir(), reason="the real Rakuten sample is absent")
def test_real_sample_mixed_dataset_as_the_readme_makes_it(tmp_path, capsys) -> None:
    output = tmp_path / "real"
    argv = [
        "--input-dir",
        str(REAL_SAMPLE_DIR),
        "--output-dir",
        str(output),
        "--mixed",
        "--image-size",
        "32",
    ]
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    assert "Mixed rows: 933 with text but no image, 649 image-only" in printed
    info = json.loads((output / "dataset_info.json").read_text())
    assert info["rows"]["train"] + info["rows"]["test"] == 1236 + 649
    assert len(list((output / "images").iterdir())) == 952
