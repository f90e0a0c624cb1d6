"""Merging original data folders: the challenge data first, a feedback export after it."""

from pathlib import Path

import pandas as pd
import pytest

from product_classifier.data.original import read_original
from product_classifier.paths import REAL_SAMPLE_DIR
from scripts import create_datasets, merge_original_folders

pytestmark = pytest.mark.skipif(not REAL_SAMPLE_DIR.is_dir(), reason="real sample not found")


def _write_folder(folder: Path, rows: list[tuple[str, int, int, int]], images: set[int]) -> None:
    """An original data folder: (designation, productid, imageid, prdtypecode) per row."""
    (folder / "images").mkdir(parents=True)
    pd.DataFrame(
        {
            "designation": [row[0] for row in rows],
            "description": "",
            "productid": [row[1] for row in rows],
            "imageid": [row[2] for row in rows],
        }
    ).to_csv(folder / "X.csv")
    pd.DataFrame({"prdtypecode": [row[3] for row in rows]}).to_csv(folder / "y.csv")
    for _, productid, imageid, _ in rows:
        if productid in images:
            (folder / "images" / f"image_{imageid}_product_{productid}.jpg").write_bytes(b"jpg")


def test_the_later_folder_wins_and_images_follow(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sample = read_original(REAL_SAMPLE_DIR, require_images=False)
    known = int(sample.X["productid"].iloc[0])
    feedback = tmp_path / "feedback"
    _write_folder(feedback, [("Corrigé", known, 7, 1560), ("Nouveau", 999, 8, 2583)], {999})
    merged = tmp_path / "merged"

    inputs = ["--input-dir", str(REAL_SAMPLE_DIR), "--input-dir", str(feedback)]
    code = merge_original_folders.main([*inputs, "--output-dir", str(merged)])

    assert code == 0
    data = read_original(merged, require_images=False)
    assert len(data.X) == len(sample.X) + 1
    rows = data.X.assign(code=data.y).set_index("productid")
    assert rows.loc[known, "designation"] == "Corrigé"
    assert rows.loc[known, "code"] == 1560
    assert (merged / "images" / "image_8_product_999.jpg").is_file()
    # Every sample image is listed by X.csv or image_labels.csv, except the replaced product's.
    sample_images = {path.name for path in (REAL_SAMPLE_DIR / "images").iterdir()}
    replaced = {name for name in sample_images if name.endswith(f"_product_{known}.jpg")}
    written = {path.name for path in (merged / "images").iterdir()}
    assert written == (sample_images - replaced) | {"image_8_product_999.jpg"}
    labels = pd.read_csv(merged / "image_labels.csv")
    assert known not in set(labels["productid"])
    assert f"{len(written)} images; 1 rows replaced" in capsys.readouterr().out
    dataset = tmp_path / "dataset"
    assert (
        create_datasets.main(
            ["--input-dir", str(merged), "--output-dir", str(dataset), "--text-only"]
        )
        == 0
    )
    assert (dataset / "X_train.csv").is_file()


def test_one_folder_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = merge_original_folders.main(
        ["--input-dir", str(REAL_SAMPLE_DIR), "--output-dir", str(tmp_path / "out")]
    )
    assert code == 2
    assert "at least two folders" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
