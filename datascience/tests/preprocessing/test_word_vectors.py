"""Averaged pretrained word vectors: the table readers and the featurizer part."""

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from product_classifier.models.text import build_text_featurizer
from product_classifier.preprocessing.text import product_text
from product_classifier.preprocessing.word_vector_means import document_words
from product_classifier.preprocessing.word_vectors import (
    DEFAULT_WORD_VECTORS,
    AveragedWordVectors,
    load_word_vectors,
    murmurhash64a,
)
from product_classifier.serving.fast_tfidf import FastTfidf
from product_classifier.serving.tfidf_tables import fast_tfidf_from_tables, featurizer_tables

_VECTORS = {
    "chaise": [1.0, 0.0, 0.0],
    "bois": [0.0, 1.0, 0.0],
    "tabouret": [0.9, 0.1, 0.0],
    "roman": [0.0, 0.0, 1.0],
}
_DOCUMENTS = [
    product_text("Chaise bois", "Une chaise en bois massif"),
    product_text("Chaise pliante", ""),
    product_text("Roman policier", "Un roman de gare"),
]


@pytest.fixture
def vec_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.vec"
    lines = [f"{len(_VECTORS)} 3"] + [
        f"{word} {' '.join(str(v) for v in values)}" for word, values in _VECTORS.items()
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_murmurhash64a_gives_spacys_string_keys() -> None:
    # Keys spaCy 3.8 gives these strings (``nlp.vocab.strings.add``): 1, 5, 8 and 9 bytes,
    # accented letters (two UTF-8 bytes each).
    assert murmurhash64a(b"a") == 11901859001352538922
    assert murmurhash64a(b"tasse") == 16100113426608168659
    assert murmurhash64a(b"abcdefgh") == 17751780907874141760
    assert murmurhash64a(b"abcdefghi") == 13885881106499164936
    assert murmurhash64a("éléphant".encode()) == 1556080844220574139


def test_document_words_split_title_and_description() -> None:
    assert document_words(product_text("Chaise PS4", "<b>Bois</b> massif")) == (
        ["chaise", "ps4"],
        ["bois", "massif"],
    )
    assert document_words(product_text("Chaise", "")) == (["chaise"], [])
    assert document_words(None) == ([], [])


def test_blocks_are_idf_weighted_normalised_means(vec_file: Path) -> None:
    part = AveragedWordVectors(str(vec_file)).fit(_DOCUMENTS)
    assert part.means_.dim == 3
    blocks = part.transform([*_DOCUMENTS, product_text("Tabouret", ""), ""])
    assert blocks.shape == (5, 6)
    assert blocks.dtype == np.float32
    # "chaise" is in 2 of 3 training documents, "bois" in 1: bois weighs more.
    idf_chaise, idf_bois = np.log(4 / 3) + 1, np.log(4 / 2) + 1
    title = np.array([idf_chaise, idf_bois, 0.0])
    np.testing.assert_allclose(blocks[0, :3], title / np.linalg.norm(title), rtol=1e-6)
    np.testing.assert_allclose(blocks[1, 3:], 0.0)  # no description
    # A word training never saw still counts, with weight 1 (vectors are kept in float16).
    np.testing.assert_allclose(
        blocks[3, :3], np.array([0.9, 0.1, 0.0]) / np.hypot(0.9, 0.1), atol=1e-4
    )
    np.testing.assert_allclose(blocks[4], 0.0)
    np.testing.assert_allclose(np.linalg.norm(blocks[2, :3]), 1.0, rtol=1e-6)


def test_featurizer_part_pickles_and_serves_from_its_tables(vec_file: Path) -> None:
    featurizer = build_text_featurizer(word_vectors=str(vec_file)).fit(_DOCUMENTS)
    assert [name for name, _ in featurizer.transformer_list] == ["word", "char", "word_vectors"]
    features = featurizer.transform(_DOCUMENTS)
    tfidf_columns = sum(
        len(part.vocabulary_)
        for name, part in featurizer.transformer_list
        if name != "word_vectors"
    )
    assert features.shape == (3, tfidf_columns + 6)
    restored = pickle.loads(pickle.dumps(featurizer))
    np.testing.assert_array_equal(restored.transform(_DOCUMENTS).toarray(), features.toarray())
    documents = [*_DOCUMENTS, product_text("Tabouret PS4", "<p>bois</p>"), ""]
    expected = featurizer.transform(documents).toarray()
    fast = FastTfidf.from_featurizer(featurizer)
    assert fast is not None
    tables = featurizer_tables(featurizer)
    assert tables is not None
    served = fast_tfidf_from_tables(json.loads(json.dumps(tables)))
    for transform in (fast.transform, served.transform):
        assert np.abs(transform(documents).toarray() - expected).max() <= 1e-6


def test_unknown_sources_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not found"):
        load_word_vectors(str(tmp_path / "missing.vec"))
    with pytest.raises(ValueError, match="installed spaCy package"):
        load_word_vectors("no_such_vectors_package")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"2 3\nchat 0.1 0.2 0.3\nchien 0.1 x 0.3\n", r"\.vec, line 3: 'chien' is not followed by"),
        (b"2 3\nchat 0.1 0.2 0.3\nchien 0.1 0.2\n", r"\.vec, line 3: 2 numbers where the first"),
        (b"1 3\nch\xe2t 0.1 0.2 0.3\n", r"\.vec: it is not UTF-8 text"),
        (b"0 3\n", "No word vector in"),
    ],
)
def test_a_broken_vec_file_names_its_line(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / f"broken-{len(content)}.vec"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        load_word_vectors(str(path))


def test_the_default_table_is_read_without_spacy() -> None:
    rows, vectors = load_word_vectors(DEFAULT_WORD_VECTORS)
    assert vectors.shape == (20_000, 300)
    assert len(rows) > 400_000

    def vector(word: str) -> np.ndarray:
        value: np.ndarray = vectors[rows[word]] / np.linalg.norm(vectors[rows[word]])
        return value

    # Neighbours in meaning are closer than unrelated words.
    assert vector("chaise") @ vector("tabouret") > vector("chaise") @ vector("roman") + 0.2
    assert vector("livre") @ vector("roman") > vector("livre") @ vector("piscine") + 0.2


def test_a_model_on_word_vectors_serves_on_onnx_from_the_tables(
    vec_file: Path, tmp_path: Path
) -> None:
    """Training features (scikit-learn, Keras) and served ones (tables, ONNX) agree."""
    from product_classifier.models.text import build_text_model
    from product_classifier.serving.features import TEXT_INPUT
    from product_classifier.serving.onnx_runner import OnnxRunner
    from product_classifier.training.onnx_export import export_onnx

    featurizer = build_text_featurizer(word_vectors=str(vec_file)).fit(_DOCUMENTS)
    training = featurizer.transform(_DOCUMENTS).toarray()
    model = build_text_model(training.shape[1], hidden_units=8)
    model.fit(training, np.array([0, 0, 1]), epochs=2, verbose=0)
    documents = [*_DOCUMENTS, product_text("Tabouret", ""), ""]
    expected = np.asarray(model.predict_on_batch(featurizer.transform(documents).toarray()))
    tables = featurizer_tables(featurizer)
    assert tables is not None
    served = fast_tfidf_from_tables(json.loads(json.dumps(tables))).transform(documents)
    path = export_onnx(model, tmp_path / "text.onnx")
    assert path is not None
    runner = OnnxRunner(str(path), sparse_input=TEXT_INPUT)
    assert runner.splits_first_layer
    np.testing.assert_allclose(runner({TEXT_INPUT: served}), expected, atol=1e-5)
