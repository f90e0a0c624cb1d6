"""IDF-weighted mean word vectors of a product document's title and description (numpy only).

The computation behind :class:`~product_classifier.preprocessing.word_vectors.
AveragedWordVectors`, kept free of scikit-learn so that serving (the fast featurizer,
:mod:`product_classifier.serving.fast_tfidf`) runs it too, and its JSON table form.
"""

import base64
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from product_classifier.preprocessing.text import document_title, normalize_text_keeping_numbers

FloatArray = npt.NDArray[np.float32]
HalfArray = npt.NDArray[np.float16]

UNSEEN_WORD_WEIGHT = 1.0
"""Weight of a word with a vector that no training document holds (the most common words')."""


def document_words(document: object) -> tuple[list[str], list[str]]:
    """The words of the title and of the description of a ``product_text`` document.

    Returns:
        ``(title_words, description_words)``, lower-case tokens with numbers kept.
    """
    text = document if isinstance(document, str) else ""
    title = document_title(text)
    doubled = f"{title} {title}"
    description = text[len(doubled) :] if title and text.startswith(doubled) else ""
    return (
        normalize_text_keeping_numbers(title).split(),
        normalize_text_keeping_numbers(description).split(),
    )


@dataclass(frozen=True)
class WordVectorMeans:
    """A fitted table: word vectors and the training IDF weights.

    Attributes:
        vocabulary: Word to row of ``vectors`` (several words may share a row).
        vectors: ``(rows, dim)`` float16 vectors (stored in half precision, summed in float32).
        weights: IDF weight of the training words that have a vector; other words weigh
            :data:`UNSEEN_WORD_WEIGHT`.
    """

    vocabulary: dict[str, int]
    vectors: HalfArray
    weights: dict[str, float]

    @property
    def dim(self) -> int:
        """Width of one block (the vectors' dimension)."""
        return int(self.vectors.shape[1])

    def _block(self, words: list[str]) -> FloatArray:
        rows: list[int] = []
        weights: list[float] = []
        for word in words:
            row = self.vocabulary.get(word)
            if row is not None:
                rows.append(row)
                weights.append(self.weights.get(word, UNSEEN_WORD_WEIGHT))
        if not rows:
            return np.zeros(self.dim, dtype=np.float32)
        total: FloatArray = np.asarray(weights, dtype=np.float32) @ self.vectors[rows].astype(
            np.float32
        )
        norm = float(np.linalg.norm(total))
        return total / np.float32(norm) if norm > 0 else total

    def row(self, document: object) -> FloatArray:
        """The ``(2 * dim,)`` float32 title block then description block of one document."""
        title, description = document_words(document)
        return np.concatenate([self._block(title), self._block(description)])

    def transform(self, documents: list[object]) -> FloatArray:
        """The ``(len(documents), 2 * dim)`` float32 blocks of documents."""
        out = np.zeros((len(documents), 2 * self.dim), dtype=np.float32)
        for index, document in enumerate(documents):
            out[index] = self.row(document)
        return out

    def to_table(self) -> dict[str, Any]:
        """A JSON-ready form (the vectors as base64 little-endian float16)."""
        vectors = np.ascontiguousarray(self.vectors, dtype="<f2")
        return {
            "vocabulary": self.vocabulary,
            "weights": self.weights,
            "shape": [int(size) for size in vectors.shape],
            "vectors": base64.b64encode(vectors.tobytes()).decode("ascii"),
        }

    @classmethod
    def from_table(cls, table: dict[str, Any]) -> "WordVectorMeans":
        """Read :meth:`to_table`'s output back.

        Raises:
            ValueError: The vectors do not have the stated shape.
        """
        rows, dim = (int(size) for size in table["shape"])
        data = base64.b64decode(table["vectors"])
        if len(data) != rows * dim * 2:
            raise ValueError("Word vector table: the vectors do not match their shape.")
        vectors = np.frombuffer(data, dtype="<f2").reshape(rows, dim).astype(np.float16)
        return cls(
            vocabulary={str(word): int(row) for word, row in table["vocabulary"].items()},
            vectors=vectors,
            weights={str(word): float(weight) for word, weight in table["weights"].items()},
        )
