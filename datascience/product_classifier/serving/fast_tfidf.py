"""The fitted TF-IDF featurizer's ``transform``, without scikit-learn's per-call overhead.

scikit-learn's ``FeatureUnion`` of ``TfidfVectorizer`` spends about a millisecond per part and per
call in validation, sparse-matrix arithmetic and the union's dispatch, while the analyzers
themselves take tens of microseconds on a product text. :class:`FastTfidf` reads the fitted
vocabularies and IDF weights once and applies the same steps as scikit-learn's
``TfidfVectorizer.transform`` (analyzer, term counts over the vocabulary, ``1 + log(tf)`` when
``sublinear_tf``, times the IDF, L2 normalisation; each part normalised alone, parts side by
side) in plain Python and numpy. The analyzers are scikit-learn's own (``build_analyzer``);
character n-grams of a word are cached per word, as ``char_wb`` n-grams never cross words.
"""

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse

from product_classifier.preprocessing.word_vector_means import WordVectorMeans

WORD_CACHE_SIZE = 100_000


@dataclass(frozen=True)
class Part:
    """One fitted ``TfidfVectorizer``: how it reads a text into column indices, and its weights."""

    columns: Callable[[str], list[int]]
    idf: npt.NDArray[np.float64]
    sublinear_tf: bool
    offset: int


@dataclass(frozen=True)
class DensePart:
    """The averaged word vectors part: ``2 * means.dim`` dense columns from ``offset``."""

    means: WordVectorMeans
    offset: int

    @property
    def width(self) -> int:
        """Number of columns of the part."""
        return 2 * self.means.dim


def _supported(vectorizer: Any) -> bool:
    """Whether :class:`FastTfidf` reproduces this vectorizer exactly."""
    if type(vectorizer).__name__ == "AveragedWordVectors":
        return hasattr(vectorizer, "means_")
    return (
        type(vectorizer).__name__ == "TfidfVectorizer"
        and hasattr(vectorizer, "vocabulary_")
        and vectorizer.use_idf
        and vectorizer.norm == "l2"
        and not vectorizer.binary
        and (vectorizer.analyzer in ("word", "char", "char_wb"))
    )


def per_word_columns(
    preprocess: Callable[[str], str],
    word_grams: Callable[[str], list[str]],
    vocabulary: dict[str, int],
) -> Callable[[str], list[int]]:
    """Columns of the in-word n-grams of a text, each word's cached (``char_wb`` analyzers).

    Args:
        preprocess: The vectorizer's preprocessor (text to cleaned text).
        word_grams: The n-grams of one word (padded with spaces, as ``char_wb`` does).
        vocabulary: Term to column.
    """

    @lru_cache(maxsize=WORD_CACHE_SIZE)
    def word_columns(word: str) -> tuple[int, ...]:
        return tuple(
            column for gram in word_grams(word) if (column := vocabulary.get(gram)) is not None
        )

    def columns(text: str) -> list[int]:
        found: list[int] = []
        for word in preprocess(text).split():
            found.extend(word_columns(word))
        return found

    return columns


def _char_wb_columns(vectorizer: Any) -> Callable[[str], list[int]]:
    """Columns of a ``char_wb`` vectorizer's n-grams in a text, cached per word."""
    # scikit-learn's own n-grams of the one word (it pads words with spaces itself).
    return per_word_columns(
        vectorizer.build_preprocessor(), vectorizer._char_wb_ngrams, vectorizer.vocabulary_
    )


def _analyzer_columns(vectorizer: Any) -> Callable[[str], list[int]]:
    """Columns of the terms scikit-learn's analyzer finds in a text."""
    analyze = vectorizer.build_analyzer()
    vocabulary: dict[str, int] = vectorizer.vocabulary_

    def columns(text: str) -> list[int]:
        return [column for term in analyze(text) if (column := vocabulary.get(term)) is not None]

    return columns


def featurizer_parts(featurizer: Any) -> list[Any] | None:
    """The vectorizers of a ``FeatureUnion`` (``None`` with transformer weights), or ``[it]``."""
    if type(featurizer).__name__ != "FeatureUnion":
        return [featurizer]
    if featurizer.transformer_weights:
        return None
    return [vectorizer for _, vectorizer in featurizer.transformer_list]


class FastTfidf:
    """Fast ``transform`` of a fitted ``FeatureUnion`` of ``TfidfVectorizer`` (or of one).

    Use :meth:`from_featurizer`, which returns ``None`` for a featurizer it cannot reproduce
    exactly (the caller then keeps scikit-learn's ``transform``).
    """

    def __init__(self, parts: Sequence[Part | DensePart], n_features: int) -> None:
        self._parts = tuple(parts)
        self.n_features = n_features

    @classmethod
    def from_featurizer(cls, featurizer: Any) -> "FastTfidf | None":
        """Read a fitted featurizer's vocabularies and weights.

        Args:
            featurizer: A fitted ``FeatureUnion`` of ``TfidfVectorizer`` without transformer
                weights, or a fitted ``TfidfVectorizer``.

        Returns:
            The fast featurizer, or ``None`` when ``featurizer`` is of another kind.
        """
        vectorizers = featurizer_parts(featurizer)
        if vectorizers is None or not all(_supported(vectorizer) for vectorizer in vectorizers):
            return None
        parts: list[Part | DensePart] = []
        offset = 0
        for vectorizer in vectorizers:
            if type(vectorizer).__name__ == "AveragedWordVectors":
                dense = DensePart(vectorizer.means_, offset)
                parts.append(dense)
                offset += dense.width
                continue
            reader = (
                _char_wb_columns(vectorizer)
                if vectorizer.analyzer == "char_wb"
                else _analyzer_columns(vectorizer)
            )
            parts.append(
                Part(
                    columns=reader,
                    idf=np.asarray(vectorizer.idf_, dtype=np.float64),
                    sublinear_tf=bool(vectorizer.sublinear_tf),
                    offset=offset,
                )
            )
            offset += len(vectorizer.vocabulary_)
        return cls(parts, offset)

    def transform(self, documents: Sequence[str]) -> sparse.csr_matrix:
        """Featurize documents as the scikit-learn featurizer does.

        Args:
            documents: Raw product texts.

        Returns:
            A ``(len(documents), n_features)`` float32 CSR matrix, equal to scikit-learn's
            ``transform`` up to float32 rounding.
        """
        indptr = [0]
        indices: list[npt.NDArray[np.int64]] = []
        values: list[npt.NDArray[np.float64]] = []
        for document in documents:
            for part in self._parts:
                if isinstance(part, DensePart):
                    row = part.means.row(document).astype(np.float64)
                    (present,) = np.nonzero(row)
                    indices.append(present.astype(np.int64) + part.offset)
                    values.append(row[present])
                    continue
                counts = Counter(part.columns(document))
                if not counts:
                    continue
                columns = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
                tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
                if part.sublinear_tf:
                    tf = np.log(tf) + 1.0
                weights = tf * part.idf[columns]
                order = np.argsort(columns)
                indices.append(columns[order] + part.offset)
                values.append(weights[order] / np.sqrt(np.dot(weights, weights)))
            indptr.append(sum(len(chunk) for chunk in indices))
        return sparse.csr_matrix(
            (
                np.concatenate(values).astype(np.float32) if values else np.zeros(0, np.float32),
                np.concatenate(indices) if indices else np.zeros(0, np.int64),
                np.asarray(indptr),
            ),
            shape=(len(documents), self.n_features),
        )
