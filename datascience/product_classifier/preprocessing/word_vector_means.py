"""IDF-weighted mean word vectors of a product document's title and description (numpy only).

The computation behind :class:`~product_classifier.preprocessing.word_vectors.
AveragedWordVectors`, kept free of scikit-learn so that serving (the fast featurizer,
:mod:`product_classifier.serving.fast_tfidf`) runs it too, and its JSON table form.

The word to row lookup is a MARISA trie (``marisa_trie.Trie``, the marisa-trie library's
binding of Susumu Yata's marisa-trie) of the words, which numbers them ``0 .. len - 1`` (its own
order), and a uint16 array of the row of each key id: for the default table's 194,927 words,
about 0.5 MB of trie and 0.4 MB of rows, where a ``dict[str, int]`` took about 23 MB of the
serving process's memory. A lookup is exact (the trie keeps the whole words) and takes about
0.3 µs. The trie pickles as its bytes; in the JSON tables it is base64 (format below).
"""

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import marisa_trie
import numpy as np
import numpy.typing as npt

from product_classifier.preprocessing.text import document_title, normalize_text_keeping_numbers

FloatArray = npt.NDArray[np.float32]
HalfArray = npt.NDArray[np.float16]
RowArray = npt.NDArray[np.uint16] | npt.NDArray[np.int32]

ROW_DTYPES = {"uint16": "<u2", "int32": "<i4"}
"""Table name of the rows' dtype to its little-endian numpy form."""

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


def row_dtype(rows: int) -> str:
    """The smallest :data:`ROW_DTYPES` name that numbers ``rows`` rows."""
    return "uint16" if rows <= np.iinfo(np.uint16).max + 1 else "int32"


@dataclass(frozen=True)
class WordVectorMeans:
    """A fitted table: word vectors and the training IDF weights.

    Attributes:
        words: Trie of the words that have a vector; its key ids index ``rows``.
        rows: ``(len(words),)`` row of ``vectors`` of each key id (uint16 when ``vectors`` has
            at most 65,536 rows, else int32; several words may share a row).
        vectors: ``(rows, dim)`` float16 vectors (stored in half precision, summed in float32).
        weights: IDF weight of the training words that have a vector; other words weigh
            :data:`UNSEEN_WORD_WEIGHT`.
    """

    words: marisa_trie.Trie
    rows: RowArray
    vectors: HalfArray
    weights: dict[str, float]

    @classmethod
    def from_vocabulary(
        cls, vocabulary: Mapping[str, int], vectors: HalfArray, weights: dict[str, float]
    ) -> "WordVectorMeans":
        """Build the trie and rows of a word to row mapping.

        Raises:
            ValueError: A row is outside ``vectors``.
        """
        words = marisa_trie.Trie(vocabulary.keys())
        rows = np.zeros(len(words), dtype=row_dtype(len(vectors)))
        for word, row in vocabulary.items():
            if not 0 <= row < len(vectors):
                raise ValueError(f"Word vector table: row {row} of {word!r} is out of range.")
            rows[words[word]] = row
        return cls(words, rows, vectors, weights)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickle, also the form pickled before the trie (a ``vocabulary`` dict)."""
        if "vocabulary" in state:
            state = vars(
                self.from_vocabulary(state["vocabulary"], state["vectors"], state["weights"])
            )
        for name, value in state.items():
            object.__setattr__(self, name, value)

    @property
    def dim(self) -> int:
        """Width of one block (the vectors' dimension)."""
        return int(self.vectors.shape[1])

    def _block(self, words: list[str]) -> FloatArray:
        keys: list[int] = []
        weights: list[float] = []
        for word in words:
            try:
                key = self.words.get(word)
            except UnicodeEncodeError:  # a lone surrogate: no table word has one
                continue
            if key is not None:
                keys.append(key)
                weights.append(self.weights.get(word, UNSEEN_WORD_WEIGHT))
        if not keys:
            return np.zeros(self.dim, dtype=np.float32)
        total: FloatArray = np.asarray(weights, dtype=np.float32) @ self.vectors[
            self.rows[keys]
        ].astype(np.float32)
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
        """A JSON-ready form: base64 of the trie's bytes, of the rows and of the vectors.

        Keys: ``words`` (``marisa_trie.Trie.tobytes``), ``rows`` and ``row_dtype`` (the rows,
        little-endian ``uint16`` or ``int32``), ``weights``, ``shape`` and ``vectors`` (``shape``
        little-endian float16).
        """
        vectors = np.ascontiguousarray(self.vectors, dtype="<f2")
        dtype = row_dtype(len(vectors))
        rows = np.ascontiguousarray(self.rows, dtype=ROW_DTYPES[dtype])
        return {
            "words": _encode(self.words.tobytes()),
            "row_dtype": dtype,
            "rows": _encode(rows.tobytes()),
            "weights": self.weights,
            "shape": [int(size) for size in vectors.shape],
            "vectors": _encode(vectors.tobytes()),
        }

    @classmethod
    def from_table(cls, table: dict[str, Any]) -> "WordVectorMeans":
        """Read :meth:`to_table`'s output back, or the older form (a ``vocabulary`` object).

        Raises:
            ValueError: The vectors or the rows do not match their shape, or a row is outside
                the vectors.
        """
        count, dim = (int(size) for size in table["shape"])
        data = base64.b64decode(table["vectors"])
        if len(data) != count * dim * 2:
            raise ValueError("Word vector table: the vectors do not match their shape.")
        vectors = np.frombuffer(data, dtype="<f2").reshape(count, dim).astype(np.float16)
        weights = {str(word): float(weight) for word, weight in table["weights"].items()}
        if "vocabulary" in table:  # tables written before the trie
            vocabulary = {str(word): int(row) for word, row in table["vocabulary"].items()}
            return cls.from_vocabulary(vocabulary, vectors, weights)
        words = marisa_trie.Trie().frombytes(base64.b64decode(table["words"]))
        dtype = ROW_DTYPES.get(table["row_dtype"])
        rows_data = base64.b64decode(table["rows"])
        if dtype is None or len(rows_data) != len(words) * np.dtype(dtype).itemsize:
            raise ValueError("Word vector table: the rows do not match the words.")
        rows = np.frombuffer(rows_data, dtype=dtype).astype(dtype[1:])
        if len(rows) and not 0 <= int(rows.min()) <= int(rows.max()) < count:
            raise ValueError("Word vector table: a row is outside the vectors.")
        return cls(words, rows, vectors, weights)


def _encode(data: bytes) -> str:
    """Base64 text of bytes."""
    return base64.b64encode(data).decode("ascii")
