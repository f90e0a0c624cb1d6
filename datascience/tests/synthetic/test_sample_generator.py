"""The synthetic sample generator: determinism, class distribution and realism quirks."""

import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import train_test_split
from sklearn.neighbors import NearestCentroid
from sklearn.svm import LinearSVC

from product_classifier.categories import CATEGORY_CODES
from product_classifier.data.dataset_folder import has_images
from product_classifier.data.original import find_missing_images, read_original
from product_classifier.data.output_folder import OutputExistsError
from product_classifier.synthetic.generator import (
    category_counts,
    generate_products,
    write_sample_dataset,
)
from product_classifier.synthetic.images import draw_product_image
from product_classifier.synthetic.vocabulary import CATEGORY_VOCABULARY, FAMILIES

RARE_CATEGORIES = (1180, 1301, 1940, 2220)


@pytest.fixture(scope="module")
def products() -> tuple[pd.DataFrame, "pd.Series[int]"]:
    return generate_products(3000, seed=11)


def _folder_digest(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_category_counts_follow_the_real_imbalance() -> None:
    counts = category_counts(3000)
    assert list(counts) == list(CATEGORY_CODES)
    assert sum(counts.values()) == 3000
    assert 0.115 <= counts[2583] / 3000 <= 0.125
    for code in RARE_CATEGORIES:
        assert counts[code] / 3000 < 0.01, code
    assert min(counts.values()) >= 2
    assert max(counts, key=counts.__getitem__) == 2583
    assert sum(category_counts(10).values()) == 10
    small = category_counts(60)
    assert sum(small.values()) == 60
    assert min(small.values()) == 2


def test_generated_distribution_and_columns(products) -> None:
    features, targets = products
    assert list(features.columns) == ["designation", "description", "productid", "imageid"]
    assert targets.name == "prdtypecode"
    shares = targets.value_counts(normalize=True)
    assert set(shares.index) == set(CATEGORY_CODES)
    assert 0.115 <= shares[2583] <= 0.125
    assert all(shares[code] < 0.01 for code in RARE_CATEGORIES)
    assert features["productid"].is_unique
    assert features["imageid"].is_unique
    # Shuffled, not grouped by category.
    assert targets.iloc[:100].nunique() > 15


def test_text_quirks_are_present(products) -> None:
    features, _ = products
    descriptions = features["description"]
    empty = (descriptions == "").mean()
    assert 0.31 <= empty <= 0.39
    filled = descriptions[descriptions != ""]
    for tag in ("<p>", "<br />", "<strong>", "<li>"):
        assert filled.str.contains(tag, regex=False).mean() > 0.05, tag
    for entity in ("&eacute;", "&amp;", "&#39;", "&agrave;"):
        assert filled.str.contains(entity, regex=False).any(), entity
    titles = features["designation"]
    assert titles.str.contains(r"\d").mean() > 0.4  # numbers and sizes
    assert titles.str.contains(r"\d+ x \d+", case=False).any()
    brands = {brand for vocabulary in CATEGORY_VOCABULARY.values() for brand in vocabulary.brands}
    with_brand = titles.map(lambda title: any(brand.lower() in title.lower() for brand in brands))
    assert with_brand.mean() > 0.3
    assert (titles.str.upper() == titles).mean() > 0.03  # some shouted titles


def test_related_categories_share_vocabulary(products) -> None:
    features, targets = products
    titles = features["designation"].str.lower()
    for family in FAMILIES:
        for noun in family.vocabulary.nouns[:3]:
            pattern = rf"\b{re.escape(noun)}\b"
            using = {
                code for code in family.codes if titles[targets == code].str.contains(pattern).any()
            }
            assert len(using) >= 2, (family.name, noun)


def test_text_is_learnable_but_not_trivial(products) -> None:
    features, targets = products
    text = features["designation"] + " " + features["description"]
    train_text, test_text, train_y, test_y = train_test_split(
        text, targets, test_size=0.25, random_state=0, stratify=targets
    )
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    model = LinearSVC().fit(vectorizer.fit_transform(train_text), train_y)
    accuracy = (model.predict(vectorizer.transform(test_text)) == test_y).mean()
    assert 0.6 < accuracy < 0.93


def test_images_correlate_with_category_but_overlap() -> None:
    features, labels = [], []
    for index in range(27 * 14):
        code = CATEGORY_CODES[index % 27]
        image = draw_product_image(code, np.random.default_rng([5, index]), size=96)
        pixels = np.asarray(image)
        histogram = np.concatenate(
            [np.histogram(pixels[..., channel], bins=8, range=(0, 256))[0] for channel in range(3)]
        )
        thumbnail = np.asarray(image.resize((10, 10)), dtype=np.float64).ravel() / 255
        features.append(np.concatenate([thumbnail, histogram / pixels[..., 0].size]))
        labels.append(code)
    train_x, test_x, train_y, test_y = train_test_split(
        np.array(features), np.array(labels), test_size=0.3, random_state=0, stratify=labels
    )
    model = NearestCentroid().fit(train_x, train_y)
    accuracy = (model.predict(test_x) == test_y).mean()
    assert 3 / 27 < accuracy < 0.9


def test_image_quirks_are_present() -> None:
    images = [
        np.asarray(draw_product_image(CATEGORY_CODES[i % 27], np.random.default_rng([9, i])))
        for i in range(120)
    ]
    assert all(image.shape == (500, 500, 3) for image in images)
    white_rows = [int((image.min(axis=(1, 2)) >= 250).sum()) for image in images]
    white_columns = [int((image.min(axis=(0, 2)) >= 250).sum()) for image in images]
    assert sum(rows > 0 for rows in white_rows) > 60  # most photos have white margins
    assert len(set(white_rows)) > 20  # of random width
    assert (
        sum(columns != rows for rows, columns in zip(white_rows, white_columns, strict=True)) > 30
    )
    gray = [
        bool(
            np.array_equal(image[..., 0], image[..., 1])
            and np.array_equal(image[..., 1], image[..., 2])
        )
        for image in images
    ]
    assert 1 <= sum(gray) <= 25


def test_sample_folder_is_deterministic_per_seed(tmp_path: Path) -> None:
    first = write_sample_dataset(tmp_path / "a", n_products=40, seed=3, workers=1)
    write_sample_dataset(tmp_path / "b", n_products=40, seed=3, workers=2)
    write_sample_dataset(tmp_path / "c", n_products=40, seed=4, workers=1)
    assert first.n_products == 40
    digest_a, digest_b = _folder_digest(tmp_path / "a"), _folder_digest(tmp_path / "b")
    assert digest_a == digest_b  # same seed: same bytes, whatever the number of workers
    digest_c = _folder_digest(tmp_path / "c")
    assert digest_a["X.csv"] != digest_c["X.csv"]
    assert digest_a["y.csv"] != digest_c["y.csv"]
    assert not set(digest_a.values()) & set(digest_c.values())

    original = read_original(tmp_path / "a")
    assert len(original.X) == 40
    assert len(find_missing_images(original.X, original.images_dir)) == 0
    assert has_images(tmp_path / "a")
    sample_image = next((tmp_path / "a" / "images").iterdir())
    with Image.open(sample_image) as image:
        assert (image.format, image.size, image.mode) == ("JPEG", (500, 500), "RGB")
    # Only the finished folders are left: no temporary folder behind.
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a", "b", "c"]


def test_existing_output_folder_is_refused_unless_overwritten(tmp_path: Path) -> None:
    target = tmp_path / "sample"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    with pytest.raises(OutputExistsError, match="exists already"):
        write_sample_dataset(target, n_products=3, seed=1, workers=1)
    assert (target / "keep.txt").exists()
    write_sample_dataset(target, n_products=3, seed=1, workers=1, overwrite=True)
    assert not (target / "keep.txt").exists()
    assert (target / "X.csv").exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["sample"]
