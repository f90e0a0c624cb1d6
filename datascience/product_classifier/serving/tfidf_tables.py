"""The fitted TF-IDF featurizer as plain tables (JSON), read back without scikit-learn.

Serving a model with the pickled featurizer means importing scikit-learn to unpickle it: seconds
of start-up and about 65 MB of memory, for a transform that :class:`FastTfidf` does in plain
Python. At training, :func:`featurizer_tables` writes what that transform needs (per part: the
analyzer, the name of its preprocessor, the n-gram range, the token pattern, the vocabulary, the
IDF weights); :func:`fast_tfidf_from_tables` rebuilds the transform from it. The analyzers are
scikit-learn's ``TfidfVectorizer`` ones (``build_analyzer`` with ``analyzer="word"`` and
``"char_wb"``: ``_word_ngrams`` and ``_char_wb_ngrams`` of ``sklearn/feature_extraction/text.py``,
scikit-learn 1.x), rewritten here for the settings our featurizer uses: a preprocessor of
:mod:`product_classifier.preprocessing.text`, no stop words, no tokenizer of its own.
"""

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import numpy as np

from product_classifier.preprocessing import text as text_module
from product_classifier.preprocessing.word_vector_means import WordVectorMeans
from product_classifier.serving.fast_tfidf import (
    DensePart,
    FastTfidf,
    Part,
    featurizer_parts,
    per_word_columns,
)

TABLES_FORMAT_VERSION: Final = 2
"""Format :func:`featurizer_tables` writes. Version 2 stores the words of the word vectors part
as a trie (:meth:`WordVectorMeans.to_table`); version 1, a word to row object, still reads."""
READABLE_FORMAT_VERSIONS: Final = (1, TABLES_FORMAT_VERSION)
WORD_VECTORS_ANALYZER: Final = "word_vectors"
PREPROCESSORS: Final = (
    "clean_text",
    "normalize_text_keeping_numbers",
    "normalize_text",
    "clean_title",
    "normalize_title_keeping_numbers",
)
"""Preprocessors a table may name (functions of :mod:`product_classifier.preprocessing.text`)."""


def _part_table(vectorizer: Any) -> dict[str, Any] | None:
    """One fitted ``TfidfVectorizer`` as a table, or ``None`` if these analyzers differ from it.

    The averaged word vectors part (``AveragedWordVectors``) becomes a table of analyzer
    ``word_vectors``: its vectors and weights (:meth:`WordVectorMeans.to_table`).
    """
    if type(vectorizer).__name__ == "AveragedWordVectors" and hasattr(vectorizer, "means_"):
        return {"analyzer": WORD_VECTORS_ANALYZER, **vectorizer.means_.to_table()}
    preprocessor = getattr(vectorizer, "preprocessor", None)
    name = getattr(preprocessor, "__name__", None)
    if (
        type(vectorizer).__name__ != "TfidfVectorizer"
        or not hasattr(vectorizer, "vocabulary_")
        or getattr(preprocessor, "__module__", None) != text_module.__name__
        or name not in PREPROCESSORS
        or vectorizer.analyzer not in ("word", "char_wb")
        or vectorizer.stop_words is not None
        or vectorizer.tokenizer is not None
        or vectorizer.input != "content"
        or not vectorizer.use_idf
        or vectorizer.norm != "l2"
        or vectorizer.binary
    ):
        return None
    return {
        "analyzer": vectorizer.analyzer,
        "preprocessor": name,
        "ngram_range": [int(size) for size in vectorizer.ngram_range],
        "token_pattern": vectorizer.token_pattern,
        "sublinear_tf": bool(vectorizer.sublinear_tf),
        "vocabulary": {term: int(column) for term, column in vectorizer.vocabulary_.items()},
        # Python's JSON writes floats with repr(): they read back to the same float64.
        "idf": [float(weight) for weight in vectorizer.idf_],
    }


def featurizer_tables(featurizer: Any) -> dict[str, Any] | None:
    """The tables of a fitted ``FeatureUnion`` of ``TfidfVectorizer`` (or of one vectorizer).

    Returns:
        A JSON-ready dict, or ``None`` when the featurizer is of another kind (serving then
        unpickles it).
    """
    vectorizers = featurizer_parts(featurizer)
    if vectorizers is None:
        return None
    parts = [_part_table(vectorizer) for vectorizer in vectorizers]
    if not all(parts):
        return None
    return {"format_version": TABLES_FORMAT_VERSION, "parts": parts}


def write_featurizer_tables(featurizer: Any, path: Path) -> bool:
    """Write :func:`featurizer_tables` to ``path``; return whether the featurizer has tables."""
    tables = featurizer_tables(featurizer)
    if tables is None:
        return False
    path.write_text(json.dumps(tables, ensure_ascii=False), encoding="utf-8")
    return True


def _word_reader(
    preprocess: Callable[[object], str],
    token_pattern: str,
    ngram_range: tuple[int, int],
    vocabulary: dict[str, int],
) -> Callable[[str], list[int]]:
    """Columns of the word n-grams of a text (scikit-learn's ``_word_ngrams``)."""
    tokenize = re.compile(token_pattern).findall
    min_n, max_n = ngram_range

    def columns(text: str) -> list[int]:
        tokens: list[str] = tokenize(preprocess(text))
        terms = list(tokens) if min_n == 1 else []
        for size in range(max(min_n, 2), min(max_n + 1, len(tokens) + 1)):
            terms.extend(" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1))
        return [column for term in terms if (column := vocabulary.get(term)) is not None]

    return columns


def _char_wb_reader(
    preprocess: Callable[[object], str],
    ngram_range: tuple[int, int],
    vocabulary: dict[str, int],
) -> Callable[[str], list[int]]:
    """Columns of the in-word character n-grams of a text (scikit-learn's ``_char_wb_ngrams``)."""
    min_n, max_n = ngram_range

    def word_grams(word: str) -> list[str]:
        padded = f" {word} "
        grams: list[str] = []
        for size in range(min_n, max_n + 1):
            if len(padded) <= size:  # a word shorter than the n-gram counts once, whole
                grams.append(padded)
                break
            grams.extend(padded[i : i + size] for i in range(len(padded) - size + 1))
        return grams

    return per_word_columns(preprocess, word_grams, vocabulary)


def fast_tfidf_from_tables(tables: dict[str, Any]) -> FastTfidf:
    """Rebuild the fast transform from :func:`featurizer_tables`'s output.

    Raises:
        ValueError: The tables are of an unknown format or name an unknown preprocessor.
    """
    if tables.get("format_version") not in READABLE_FORMAT_VERSIONS:
        raise ValueError(f"Unknown TF-IDF tables format: {tables.get('format_version')!r}.")
    parts: list[Part | DensePart] = []
    offset = 0
    for table in tables["parts"]:
        if table["analyzer"] == WORD_VECTORS_ANALYZER:
            dense = DensePart(WordVectorMeans.from_table(table), offset)
            parts.append(dense)
            offset += dense.width
            continue
        if table["preprocessor"] not in PREPROCESSORS:
            raise ValueError(f"Unknown text preprocessor {table['preprocessor']!r}.")
        preprocess = getattr(text_module, table["preprocessor"])
        vocabulary = {str(term): int(column) for term, column in table["vocabulary"].items()}
        low, high = (int(size) for size in table["ngram_range"])
        if table["analyzer"] == "char_wb":
            reader = _char_wb_reader(preprocess, (low, high), vocabulary)
        elif table["analyzer"] == "word":
            reader = _word_reader(preprocess, table["token_pattern"], (low, high), vocabulary)
        else:
            raise ValueError(f"Unknown analyzer {table['analyzer']!r}.")
        parts.append(
            Part(
                columns=reader,
                idf=np.asarray(table["idf"], dtype=np.float64),
                sublinear_tf=bool(table["sublinear_tf"]),
                offset=offset,
            )
        )
        offset += len(vocabulary)
    return FastTfidf(parts, offset)


def read_fast_tfidf(path: str | Path) -> FastTfidf:
    """Read the tables written by :func:`write_featurizer_tables` into a fast transform."""
    tables: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    return fast_tfidf_from_tables(tables)
