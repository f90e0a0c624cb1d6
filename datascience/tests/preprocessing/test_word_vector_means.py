"""The word vectors part's trie lookup: same blocks as a word to row dict, old forms still read."""

import base64
import json
import pickle

import numpy as np
import pandas as pd
import pytest

from product_classifier.paths import REAL_SAMPLE_DIR
from product_classifier.preprocessing.text import product_text
from product_classifier.preprocessing.word_vector_means import (
    UNSEEN_WORD_WEIGHT,
    WordVectorMeans,
    document_words,
)
from product_classifier.preprocessing.word_vectors import (
    DEFAULT_WORD_VECTORS,
    AveragedWordVectors,
    load_word_vectors,
)
from product_classifier.serving.features import product_documents
from product_classifier.serving.tfidf_tables import fast_tfidf_from_tables

_VOCABULARY = {"chaise": 0, "bois": 1, "tabouret": 0, "roman": 2, "élégant": 3}
_VECTORS = np.array(
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.5, 0.5, 0.0]], dtype=np.float16
)
_WEIGHTS = {"chaise": 1.5, "roman": 2.0}


def _means() -> WordVectorMeans:
    return WordVectorMeans.from_vocabulary(_VOCABULARY, _VECTORS, _WEIGHTS)


def _reference_block(
    words: list[str], vocabulary: dict[str, int], vectors: np.ndarray, weights: dict[str, float]
) -> np.ndarray:
    """The block as computed before the trie: a word to row dict."""
    rows = [vocabulary[word] for word in words if word in vocabulary]
    if not rows:
        return np.zeros(vectors.shape[1], dtype=np.float32)
    factors = [weights.get(word, UNSEEN_WORD_WEIGHT) for word in words if word in vocabulary]
    total = np.asarray(factors, dtype=np.float32) @ vectors[rows].astype(np.float32)
    norm = float(np.linalg.norm(total))
    return total / np.float32(norm) if norm > 0 else total


def _old_form_table(means: WordVectorMeans) -> dict[str, object]:
    """The table form written before the trie (tables format 1)."""
    table = means.to_table()
    words = means.words.keys()
    table["vocabulary"] = {word: int(means.rows[means.words[word]]) for word in words}
    for key in ("words", "rows", "row_dtype"):
        del table[key]
    return table


def test_the_trie_finds_every_word_and_only_them() -> None:
    means = _means()
    assert len(means.words) == len(_VOCABULARY)
    assert means.rows.dtype == np.uint16
    for word, row in _VOCABULARY.items():
        assert int(means.rows[means.words[word]]) == row
    # Unknown words, prefixes of known words and lone surrogates are ignored.
    for text in ("inconnu", "chai", "chaises", "\ud800", ""):
        np.testing.assert_array_equal(means.row(product_text(text, text)), np.zeros(6))
    mixed = means.row(product_text("Chaise inconnue \ud800", "roman chai élégant"))
    only_known = means.row(product_text("Chaise", "roman élégant"))
    np.testing.assert_array_equal(mixed, only_known)


def test_rows_beyond_uint16_are_int32() -> None:
    vectors = np.zeros((70_000, 1), dtype=np.float16)
    means = WordVectorMeans.from_vocabulary({"a": 69_999, "b": 3}, vectors, {})
    assert means.rows.dtype == np.int32
    restored = WordVectorMeans.from_table(json.loads(json.dumps(means.to_table())))
    assert restored.rows.dtype == np.int32
    assert int(restored.rows[restored.words["a"]]) == 69_999
    with pytest.raises(ValueError, match="out of range"):
        WordVectorMeans.from_vocabulary({"a": 70_000}, vectors, {})


def test_tables_old_and_new_forms_read_to_the_same_lookup() -> None:
    means = _means()
    documents: list[object] = [product_text("Chaise tabouret", "roman élégant inconnu"), "", "bois"]
    expected = means.transform(documents)
    new_form = json.loads(json.dumps(means.to_table(), ensure_ascii=False))
    assert "vocabulary" not in new_form
    old_form = json.loads(json.dumps(_old_form_table(means), ensure_ascii=False))
    for table in (new_form, old_form):
        read = WordVectorMeans.from_table(table)
        assert sorted(read.words.keys()) == sorted(_VOCABULARY)
        np.testing.assert_array_equal(read.transform(documents), expected)
    rows = base64.b64decode(new_form["rows"])
    with pytest.raises(ValueError, match="rows do not match"):
        WordVectorMeans.from_table({**new_form, "rows": base64.b64encode(rows[:-2]).decode()})
    with pytest.raises(ValueError, match="outside the vectors"):
        WordVectorMeans.from_table({**new_form, "shape": [2, 3], "vectors": "A" * 16})


def test_format_1_tables_still_serve() -> None:
    means = _means()
    documents = [product_text("Chaise bois", "Un roman élégant"), "inconnu"]
    part = {"analyzer": "word_vectors"}
    old = fast_tfidf_from_tables(
        {"format_version": 1, "parts": [{**part, **_old_form_table(means)}]}
    )
    new = fast_tfidf_from_tables({"format_version": 2, "parts": [{**part, **means.to_table()}]})
    np.testing.assert_array_equal(
        old.transform(documents).toarray(), new.transform(documents).toarray()
    )
    np.testing.assert_array_equal(new.transform(documents).toarray(), means.transform([*documents]))


def test_pickles_round_trip_and_old_pickles_read() -> None:
    means = _means()
    documents: list[object] = [product_text("Chaise tabouret", "roman élégant"), "bois"]
    restored = pickle.loads(pickle.dumps(means))
    assert restored.words.keys() == means.words.keys()
    np.testing.assert_array_equal(restored.rows, means.rows)
    np.testing.assert_array_equal(restored.transform(documents), means.transform(documents))
    # The state pickled before the trie: a word to row dict.
    old = WordVectorMeans.__new__(WordVectorMeans)
    old.__setstate__({"vocabulary": _VOCABULARY, "vectors": _VECTORS, "weights": _WEIGHTS})
    np.testing.assert_array_equal(old.transform(documents), means.transform(documents))


@pytest.mark.skipif(not (REAL_SAMPLE_DIR / "X.csv").exists(), reason="no real sample")
def test_default_table_gives_the_dict_lookups_blocks_on_real_rows() -> None:
    rows = pd.read_csv(REAL_SAMPLE_DIR / "X.csv", nrows=400)
    documents = product_documents(
        rows["designation"].tolist(), rows["description"].fillna("").tolist()
    )
    means = AveragedWordVectors(DEFAULT_WORD_VECTORS).fit(documents[:300]).means_
    source_rows, source_vectors = load_word_vectors(DEFAULT_WORD_VECTORS)
    vocabulary = {
        word: row for word, row in source_rows.items() if word.isalnum() and word == word.lower()
    }
    vectors = source_vectors.astype(np.float16)
    assert len(means.words) == len(vocabulary)
    for word, row in vocabulary.items():
        np.testing.assert_array_equal(means.vectors[means.rows[means.words[word]]], vectors[row])
    for document, got in zip(documents, means.transform(list(documents)), strict=True):
        title, description = document_words(document)
        expected = np.concatenate(
            [
                _reference_block(title, vocabulary, vectors, means.weights),
                _reference_block(description, vocabulary, vectors, means.weights),
            ]
        )
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-7)
