"""Text featurizer and Keras text model: pickling, layer names, shapes and a tiny real fit."""

import io
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse

from product_classifier.categories import NUM_CATEGORIES
from product_classifier.models.text import (
    TEXT_FEATURES_LAYER,
    TEXT_MODEL_DEFAULTS,
    TEXT_OUTPUT_LAYER,
    build_text_featurizer,
    build_text_model,
    featurize,
)
from product_classifier.paths import REPOSITORY_ROOT
from product_classifier.preprocessing.text import clean_text, product_text

_CORPUS = [
    product_text(
        "Chaise en bois <strong>massif</strong>", "<p>Chaise de cuisine &eacute;l&eacute;gante</p>"
    ),
    product_text("Table basse en chêne", "Table de salon<br />pieds en métal 120 cm"),
    product_text("Poupée mannequin", "Poupée avec robe rose et accessoires"),
    product_text("Peluche ours brun", None),
    product_text("Jeu de société familial", "Plateau, dés et 4 pions &amp;eacute;"),
    product_text("Piscine hors sol ronde", "Piscine tubulaire 3,05 m avec pompe et bâche"),
]


def _pickled_globals(data: bytes) -> set[str]:
    """Return the modules a pickle refers to (what must be importable to load it)."""
    modules: set[str] = set()

    class RecordingUnpickler(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> Any:
            modules.add(module)
            return super().find_class(module, name)

    RecordingUnpickler(io.BytesIO(data)).load()
    return modules


def test_featurizer_outputs_bounded_float32_features():
    featurizer = build_text_featurizer()
    features = featurizer.fit_transform(_CORPUS)
    assert scipy.sparse.issparse(features)
    assert features.dtype == np.float32
    assert features.shape[0] == len(_CORPUS)
    dense = featurize(featurizer, ["Chaise en bois", "", None])
    assert isinstance(dense, np.ndarray)
    assert dense.dtype == np.float32
    assert dense.shape == (3, features.shape[1])
    assert not dense[1].any()
    assert not dense[2].any()
    defaults = TEXT_MODEL_DEFAULTS
    title_parts = 2 * defaults.title_max_features if defaults.title_features else 0
    assert defaults.word_max_features + defaults.char_max_features + title_parts <= 100_000


def test_featurizer_vocabulary_is_cleaned_text():
    featurizer = build_text_featurizer()
    featurizer.fit(_CORPUS)
    word_vocabulary = set(featurizer.named_transformers["word"].vocabulary_)
    assert {"chais", "bois", "poup", "piscin"} <= word_vocabulary
    # ("de" may remain: it is the stem of "dés", dice, not the stop word.)
    leftovers = {"strong", "br", "eacute", "amp", "en", "et", "la", "les"} & word_vocabulary
    assert not leftovers
    assert clean_text("de la et en pour les") == ""
    assert not any(any(char.isdigit() for char in term) for term in word_vocabulary)
    char_vocabulary = featurizer.named_transformers["char"].vocabulary_
    # Character n-grams keep numbers on purpose (model numbers such as "ps4"), never HTML.
    assert not any(any(char in term for char in "<>&;") for term in char_vocabulary)


def test_title_parts_read_only_the_title():
    featurizer = build_text_featurizer(title_features=True)
    featurizer.fit(_CORPUS)
    title_words = set(featurizer.named_transformers["title_word"].vocabulary_)
    assert {"chais", "chais bois", "piscin"} <= title_words
    assert "cuisin" in featurizer.named_transformers["word"].vocabulary_
    assert "cuisin" not in title_words  # a description word
    assert " cuis" in featurizer.named_transformers["char"].vocabulary_
    assert " cuis" not in featurizer.named_transformers["title_char"].vocabulary_
    plain = build_text_featurizer(title_features=False, word_vectors=None).fit(_CORPUS)
    assert [name for name, _ in plain.transformer_list] == ["word", "char"]


def test_featurizer_pickles_and_round_trips_identically(tmp_path: Path):
    featurizer = build_text_featurizer()
    featurizer.fit(_CORPUS)
    data = pickle.dumps(featurizer)
    restored = pickle.loads(data)
    texts = [*_CORPUS, "Chaise inconnue <br> 42", ""]
    expected = featurizer.transform(texts)
    actual = restored.transform(texts)
    assert (expected != actual).nnz == 0
    # Only runtime libraries, the cleaning module and the word vectors' are needed to load it
    # (no lambdas, no training code).
    allowed = (
        "sklearn",
        "numpy",
        "scipy",
        "marisa_trie",
        "builtins",
        "copyreg",
        "_codecs",
        "collections",
    )
    ours = {
        "product_classifier.preprocessing.text",
        "product_classifier.preprocessing.word_vectors",
        "product_classifier.preprocessing.word_vector_means",
    }
    modules = _pickled_globals(data)
    assert "product_classifier.preprocessing.text" in modules
    assert all(m.startswith(allowed) or m in ours for m in modules), modules

    # A fresh interpreter loads it and gets the very same features.
    path = tmp_path / "featurizer.pkl"
    path.write_bytes(data)
    script = (
        "import pickle, sys, numpy as np;"
        "f = pickle.loads(open(sys.argv[1], 'rb').read());"
        "np.save(sys.argv[2], f.transform(sys.argv[3:]).toarray())"
    )
    output = tmp_path / "features.npy"
    subprocess.run(
        [sys.executable, "-c", script, str(path), str(output), *texts[:3]],
        check=True,
        cwd=REPOSITORY_ROOT / "datascience",
    )
    np.testing.assert_array_equal(np.load(output), expected[:3].toarray())


def test_model_has_named_layers_and_27_probabilities():
    model = build_text_model(50, hidden_units=16, dropout=0.1)
    assert model.get_layer(TEXT_FEATURES_LAYER).name == "text_features"
    assert model.get_layer(TEXT_OUTPUT_LAYER).name == "text_output"
    assert model.get_layer("text_features").units == 16
    assert model.input_shape == (None, 50)
    assert model.output_shape == (None, NUM_CATEGORIES)
    assert model.optimizer is not None
    probabilities = np.asarray(model.predict_on_batch(np.zeros((3, 50), dtype=np.float32)))
    assert probabilities.shape == (3, NUM_CATEGORIES)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.slow
def test_tiny_fit_learns_separable_classes():
    import keras

    keras.utils.set_random_seed(0)
    vocabulary = {
        0: "livre roman auteur chapitre",
        7: "poupée peluche jouet enfant",
        23: "piscine pompe bâche filtration",
    }
    rng = np.random.default_rng(0)
    texts: list[str] = []
    labels: list[int] = []
    for label, words in vocabulary.items():
        for _ in range(12):
            picked = rng.choice(words.split(), size=2, replace=False)
            texts.append(product_text(" ".join(picked), "produit de qualité"))
            labels.append(label)
    featurizer = build_text_featurizer()
    features = featurize(featurizer.fit(texts), texts)
    model = build_text_model(features.shape[1], hidden_units=16)
    model.fit(features, np.array(labels), epochs=25, batch_size=8, verbose=0)
    queries = ["roman et chapitre", "peluche pour enfant", "pompe de piscine"]
    predicted = np.asarray(model.predict_on_batch(featurize(featurizer, queries))).argmax(axis=1)
    assert predicted.tolist() == [0, 7, 23]


def test_wide_path_and_label_smoothing_are_options():
    import keras

    plain = build_text_model(50, hidden_units=16)
    assert plain.loss == "sparse_categorical_crossentropy"
    with pytest.raises(ValueError, match="text_wide_scores"):
        plain.get_layer("text_wide_scores")
    wide = build_text_model(50, hidden_units=16, wide=True, label_smoothing=0.1)
    assert wide.get_layer("text_wide_scores").kernel.shape == (50, NUM_CATEGORIES)
    assert isinstance(wide.loss, keras.losses.CategoricalCrossentropy)
    assert wide.loss.label_smoothing == pytest.approx(0.1)
    # The wide path really feeds the output: zeroing it changes the probabilities.
    inputs = np.random.default_rng(0).random((4, 50)).astype(np.float32)
    kernel = np.tile(np.arange(NUM_CATEGORIES, dtype=np.float32) / 10, (50, 1))
    wide.get_layer("text_wide_scores").kernel.assign(kernel)  # favours the last categories
    before = np.asarray(wide.predict_on_batch(inputs))
    wide.get_layer("text_wide_scores").kernel.assign(np.zeros((50, NUM_CATEGORIES)))
    assert not np.allclose(before, np.asarray(wide.predict_on_batch(inputs)))
    np.testing.assert_allclose(before.sum(axis=1), 1.0, rtol=1e-5)


def test_towers_average_their_softmaxes_over_one_first_layer():
    model = build_text_model(50, hidden_units=8, towers=3)
    assert model.get_layer(TEXT_FEATURES_LAYER).units == 24  # one layer: served as one product
    assert model.output_shape == (None, NUM_CATEGORIES)
    inputs = np.random.default_rng(0).random((4, 50)).astype(np.float32)
    probabilities = np.asarray(model.predict_on_batch(inputs))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    import keras

    towers = keras.Model(model.input, model.get_layer("text_tower_output").output)
    each = np.asarray(towers.predict_on_batch(inputs))
    assert each.shape == (4, 3, NUM_CATEGORIES)
    assert not np.allclose(each[:, 0], each[:, 1])  # the towers start from different weights
    np.testing.assert_allclose(probabilities, each.mean(axis=1), rtol=1e-5, atol=1e-7)
    wide = build_text_model(50, hidden_units=8, towers=3, wide=True)
    np.testing.assert_allclose(
        np.asarray(wide.predict_on_batch(inputs)).sum(axis=1), 1.0, rtol=1e-5
    )


@pytest.mark.parametrize("wide", [False, True])
def test_towers_export_to_onnx_and_serve_alike(tmp_path: Path, wide: bool):
    from product_classifier.serving.batch import ModelBatch
    from product_classifier.serving.features import TEXT_INPUT
    from product_classifier.serving.onnx_runner import OnnxRunner
    from product_classifier.training.onnx_export import export_onnx

    model = build_text_model(60, hidden_units=8, towers=3, wide=wide)
    rows = scipy.sparse.random(5, 60, density=0.1, format="csr", random_state=0, dtype=np.float32)
    expected = np.asarray(model.predict_on_batch(rows.toarray()))
    path = export_onnx(model, tmp_path / "text.onnx")
    assert path is not None
    runner = OnnxRunner(str(path), sparse_input=TEXT_INPUT)
    # The towers keep the sparse first-layer product; the wide path reads the input a second
    # time, and its layer joins the same sparse product.
    assert runner.splits_first_layer
    assert runner._split is not None
    assert runner._split.weights.shape == (60, 24 + (NUM_CATEGORIES if wide else 0))
    batch: ModelBatch = {TEXT_INPUT: rows}
    np.testing.assert_allclose(runner(batch), expected, atol=1e-5)
