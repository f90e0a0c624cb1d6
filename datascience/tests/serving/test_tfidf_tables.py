"""TF-IDF tables: written from a fitted featurizer, read back without scikit-learn, same rows."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from product_classifier.models.text import build_text_featurizer
from product_classifier.paths import REAL_SAMPLE_DIR
from product_classifier.serving.features import product_documents, text_matrix
from product_classifier.serving.tfidf_tables import (
    TABLES_FORMAT_VERSION,
    fast_tfidf_from_tables,
    featurizer_tables,
    read_fast_tfidf,
    write_featurizer_tables,
)
from tests.fresh_process import run_fresh_python

EDGE_CASES = [
    "",
    "   ",
    "a",
    "<p>&amp;eacute; PS4 — 240 x 320 cm² élégant</p>",
    "Lot de 3 x chaussettes\tENFANT\n\n  taille  27/30 - coton bio ©",
]


def _documents() -> list[str]:
    """The real sample's product texts when the sample is there, else a few made-up ones."""
    if (REAL_SAMPLE_DIR / "X.csv").exists():
        rows = pd.read_csv(REAL_SAMPLE_DIR / "X.csv", nrows=600)
        documents = product_documents(
            rows["designation"].tolist(), rows["description"].fillna("").tolist()
        )
    else:
        documents = [
            f"Produit {index} jouet enfant peluche {index % 7} piscine gonflable bleue"
            for index in range(60)
        ]
    return documents + EDGE_CASES


@pytest.mark.parametrize(
    ("word_ngrams", "char_ngrams", "title_features"),
    [
        ((1, 2), (2, 5), False),
        ((2, 3), (1, 3), False),
        ((1, 1), (3, 3), False),
        ((1, 2), (2, 5), True),
    ],
)
def test_tables_give_the_same_rows_as_scikit_learn(
    word_ngrams, char_ngrams, title_features, tmp_path
) -> None:
    documents = _documents()
    featurizer = build_text_featurizer(
        word_max_features=3000,
        char_max_features=5000,
        word_ngram_range=word_ngrams,
        char_ngram_range=char_ngrams,
        title_features=title_features,
        title_max_features=2000,
    )
    featurizer.fit(documents)
    path = tmp_path / "tables.json"
    assert write_featurizer_tables(featurizer, path)
    fast = read_fast_tfidf(path)
    expected = text_matrix(featurizer, documents).toarray()
    for _ in range(2):  # the second pass reads the per-word cache
        got = fast.transform(documents).toarray()
        assert got.shape == expected.shape
        assert np.abs(got - expected).max() <= 1e-6
    assert (got != 0).sum() == (expected != 0).sum()


def test_a_featurizer_the_tables_cannot_reproduce_has_none() -> None:
    featurizer = build_text_featurizer(word_max_features=50, char_max_features=0)
    featurizer.fit(_documents())
    word = featurizer.transformer_list[0][1]
    word.set_params(stop_words=["de"])
    assert featurizer_tables(featurizer) is None
    word.set_params(stop_words=None, preprocessor=str.lower)
    assert featurizer_tables(featurizer) is None
    assert featurizer_tables(object()) is None


def test_unknown_tables_are_refused() -> None:
    featurizer = build_text_featurizer(word_max_features=50, char_max_features=0)
    featurizer.fit(_documents())
    tables = featurizer_tables(featurizer)
    assert tables is not None
    with pytest.raises(ValueError, match="format"):
        fast_tfidf_from_tables({**tables, "format_version": 99})
    tables["parts"][0]["preprocessor"] = "eval"
    with pytest.raises(ValueError, match="preprocessor"):
        fast_tfidf_from_tables(tables)


READ_IN_FRESH_PROCESS = """
import json, sys
from product_classifier.serving.tfidf_tables import read_fast_tfidf

fast = read_fast_tfidf(sys.argv[1])
row = fast.transform([sys.argv[2]])
print(json.dumps({"nonzero": int(row.nnz), "sklearn": "sklearn" in sys.modules}))
"""


def test_reading_the_tables_does_not_import_scikit_learn(tmp_path: Path) -> None:
    documents = _documents()
    featurizer = build_text_featurizer(word_max_features=500, char_max_features=500)
    featurizer.fit(documents)
    path = tmp_path / "tables.json"
    write_featurizer_tables(featurizer, path)
    answer = run_fresh_python(READ_IN_FRESH_PROCESS, [str(path), documents[0]], tmp_path)
    assert answer == {"nonzero": text_matrix(featurizer, documents[:1]).nnz, "sklearn": False}
    assert json.loads(path.read_text(encoding="utf-8"))["format_version"] == TABLES_FORMAT_VERSION
