"""The dataset folder reader used by training: read_split, image_paths, has_images."""

from pathlib import Path

import pandas as pd
import pytest

from product_classifier.data.dataset_folder import (
    DatasetInfo,
    has_images,
    image_paths,
    read_info,
    read_split,
)
from product_classifier.data.original import DatasetError


def _write_split(directory: Path, split: str) -> None:
    features = pd.DataFrame(
        {
            "designation": ["Piscine tubulaire", "Roman policier"],
            "description": ["<p>Bleue &eacute;t&eacute;</p>", ""],
            "productid": [11, 22],
            "imageid": [101, 202],
        },
        index=[7, 3],
    )
    targets = pd.DataFrame({"prdtypecode": [2583, 10]}, index=[7, 3])
    features.to_csv(directory / f"X_{split}.csv")
    targets.to_csv(directory / f"y_{split}.csv")


def test_read_split_types_and_order(tmp_path: Path) -> None:
    _write_split(tmp_path, "train")
    features, targets = read_split(tmp_path, "train")
    assert list(features.columns) == ["designation", "description", "productid", "imageid"]
    assert list(features.index) == [7, 3]
    assert features.loc[3, "description"] == ""
    assert features.loc[7, "description"] == "<p>Bleue &eacute;t&eacute;</p>"
    assert features["productid"].dtype == "int64"
    assert targets.name == "prdtypecode"
    assert targets.tolist() == [2583, 10]
    assert targets.dtype == "int64"


def test_read_split_missing_files_and_bad_split(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"Missing X_test\.csv"):
        read_split(tmp_path, "test")
    with pytest.raises(ValueError, match="Unknown split"):
        read_split(tmp_path, "validation")  # type: ignore[arg-type]
    with pytest.raises(DatasetError, match="does not exist"):
        read_split(tmp_path / "absent", "train")


def test_image_paths_without_images_folder(tmp_path: Path) -> None:
    _write_split(tmp_path, "test")
    features, _ = read_split(tmp_path, "test")
    paths = image_paths(tmp_path, features)
    assert paths == [
        tmp_path / "images" / "image_101_product_11.jpg",
        tmp_path / "images" / "image_202_product_22.jpg",
    ]
    assert not has_images(tmp_path)
    (tmp_path / "images").mkdir()
    assert not has_images(tmp_path)
    paths[0].write_bytes(b"x")
    assert has_images(tmp_path)


def test_dataset_info_round_trip(tmp_path: Path) -> None:
    assert read_info(tmp_path) is None
    info = DatasetInfo(
        source="/data",
        text_only=False,
        image_size=224,
        train_size=0.8,
        test_size=0.2,
        random_state=42,
        rows={"train": 8, "test": 2, "remaining": 0},
        unsplit_categories=[1180],
    )
    (tmp_path / "dataset_info.json").write_text(info.to_json(), encoding="utf-8")
    assert read_info(tmp_path) == info
