"""Averaged pretrained French word vectors of a product's title and of its description.

On about a thousand training rows, TF-IDF features know only the words seen in training;
pretrained word vectors bring what a large corpus knows about the others (``chaise`` is near
``tabouret``, ``livre`` near ``roman``). :class:`AveragedWordVectors` gives each document two
dense blocks of ``dim`` columns: the IDF-weighted mean of the vectors of the title's words and
that of the description's words, each L2-normalised (a block is all zeros when its text has no
word with a vector). Words are the tokens of
:func:`~product_classifier.preprocessing.text.normalize_text_keeping_numbers` (lower case, accents
kept, as the vectors' keys are); the IDF weights are scikit-learn's smoothed ones
(``ln((1 + n) / (1 + df)) + 1``) over the training documents.

At ``fit`` the transformer copies the pretrained table (every lower-case word: the point is to
know the words training never saw) with the training IDF weights: for the default table, 194,927
words in a trie (0.5 MB) with the row of each (uint16, 0.4 MB), and 18,135 distinct 300-d vectors
in float16 (10.9 MB), so that the fitted featurizer (pickled,
and as JSON tables for serving, :mod:`product_classifier.serving.tfidf_tables`) serves without
the package or any download. The default table is the 300-d vectors of spaCy's
``fr_core_news_md`` 3.8 package (Explosion's fastText CBOW vectors trained on OSCAR Common Crawl
and Wikipedia, 20,000 distinct vectors for 500,000 words), read from the package's files without
spaCy (which that package does not install). The package as a whole is LGPL-LR (its parser and
tagger data); its vectors are released under CC0 (the package's ``meta.json``, ``sources``), so a
logged model may carry them. A few dozen words that spaCy stores as fixed symbols rather than
hashed strings (``aux``, ``mark``...) are not found this way: mostly grammar words. A fastText
``.vec`` text file (first line ``count dim``, then ``word v1 ... vdim``) works too.
"""

import importlib.util
import json
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Final, Self

import numpy as np
import numpy.typing as npt
from sklearn.base import BaseEstimator, TransformerMixin

from product_classifier.preprocessing.word_vector_means import (
    FloatArray,
    WordVectorMeans,
    document_words,
)

__all__ = ["DEFAULT_WORD_VECTORS", "AveragedWordVectors", "load_word_vectors", "murmurhash64a"]

DEFAULT_WORD_VECTORS: Final = "fr_core_news_md"
"""spaCy package whose vectors the text model reads by default."""


def _read_vec_file(path: Path) -> tuple[dict[str, int], FloatArray]:
    """All vectors of a fastText ``.vec`` text file: word to row, and the rows.

    Raises:
        ValueError: The file is not UTF-8 text, a line holds something else than a word and
            numbers, the vectors differ in size, or there is no vector; the message names the
            file and the line.
    """
    rows: dict[str, int] = {}
    vectors: list[FloatArray] = []
    try:
        with path.open(encoding="utf-8") as file:
            file.readline()  # "count dim"
            for number, line in enumerate(file, start=2):
                word, _, values = line.rstrip("\n").partition(" ")
                if not word or word in rows:
                    continue
                try:
                    vector = np.array(values.split(), dtype=np.float32)
                except ValueError:
                    raise ValueError(
                        f"Invalid word vector file {path}, line {number}: {word!r} is not "
                        "followed by numbers."
                    ) from None
                if vectors and vector.shape != vectors[0].shape:
                    raise ValueError(
                        f"Invalid word vector file {path}, line {number}: {len(vector)} numbers "
                        f"where the first vector has {len(vectors[0])}."
                    )
                rows[word] = len(vectors)
                vectors.append(vector)
    except UnicodeDecodeError:
        raise ValueError(f"Invalid word vector file {path}: it is not UTF-8 text.") from None
    if not vectors:
        raise ValueError(f"No word vector in {path}.")
    return rows, np.stack(vectors)


_MASK: Final = (1 << 64) - 1
_MURMUR_M: Final = 0xC6A4A7935BD1E995


def murmurhash64a(data: bytes, seed: int = 1) -> int:
    """MurmurHash64A of ``data``: the 64-bit key spaCy gives a string (its ``hash_string``).

    Austin Appleby's MurmurHash2 64-bit variant "64A" (public domain,
    https://github.com/aappleby/smhasher/blob/master/src/MurmurHash2.cpp), which spaCy calls with
    seed 1 on the UTF-8 bytes of a string; rewritten in Python.
    """
    value = (seed ^ (len(data) * _MURMUR_M)) & _MASK
    end = len(data) - len(data) % 8
    for start in range(0, end, 8):
        block = (int.from_bytes(data[start : start + 8], "little") * _MURMUR_M) & _MASK
        block = ((block ^ (block >> 47)) * _MURMUR_M) & _MASK
        value = ((value ^ block) * _MURMUR_M) & _MASK
    if end < len(data):
        value = ((value ^ int.from_bytes(data[end:], "little")) * _MURMUR_M) & _MASK
    value = ((value ^ (value >> 47)) * _MURMUR_M) & _MASK
    return value ^ (value >> 47)


def _read_key2row(data: bytes) -> dict[int, int]:
    """SpaCy's ``key2row`` file: a MessagePack map of uint64 keys to unsigned rows.

    Raises:
        ValueError: The file holds anything else.
    """
    head = data[0]
    if head == 0xDF:
        count, position = int.from_bytes(data[1:5], "big"), 5
    elif head == 0xDE:
        count, position = int.from_bytes(data[1:3], "big"), 3
    else:
        raise ValueError("key2row is not a MessagePack map.")
    sizes = {0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8}
    table: dict[int, int] = {}
    for _ in range(count):
        numbers = []
        for _ in range(2):
            marker = data[position]
            if marker < 0x80:  # positive fixint
                numbers.append(marker)
                position += 1
                continue
            if marker not in sizes:
                raise ValueError(f"Unexpected MessagePack marker {marker:#x} in key2row.")
            size = sizes[marker]
            numbers.append(int.from_bytes(data[position + 1 : position + 1 + size], "big"))
            position += 1 + size
        table[numbers[0]] = numbers[1]
    return table


def _spacy_package_vectors(package: str) -> tuple[dict[str, int], FloatArray]:
    """The vector table of an installed spaCy model package, read without spaCy.

    A spaCy 3 package keeps its vocabulary in ``<package>-<version>/vocab/``: ``vectors`` (a
    numpy array), ``key2row`` (vector key to row) and ``strings.json`` (the strings the keys
    hash, see :func:`murmurhash64a`).

    Raises:
        ModuleNotFoundError: No such package is installed.
        FileNotFoundError: The package has no vector table.
    """
    # The package's __init__ imports spaCy: find its folder without importing it.
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"No installed package {package!r}.")
    folder = Path(next(iter(spec.submodule_search_locations)))
    folders = sorted(folder.glob("*/vocab/vectors"))
    if not folders:
        raise FileNotFoundError(f"No vocab/vectors in the package {package!r}.")
    vocab = folders[-1].parent
    vectors = np.load(vocab / "vectors", allow_pickle=False)
    key_rows = _read_key2row((vocab / "key2row").read_bytes())
    strings: list[str] = json.loads((vocab / "strings.json").read_text(encoding="utf-8"))
    rows: dict[str, int] = {}
    for word in strings:
        row = key_rows.get(murmurhash64a(word.encode("utf-8")))
        if row is not None:
            rows[word] = row
    return rows, np.asarray(vectors, dtype=np.float32)


@lru_cache(maxsize=2)
def load_word_vectors(source: str) -> tuple[dict[str, int], FloatArray]:
    """Read a pretrained vector table (once per process and source).

    Args:
        source: Path of a fastText ``.vec`` file, or the name of an installed spaCy package
            with vectors (e.g. ``fr_core_news_md``).

    Returns:
        ``(rows, vectors)``: word to row of the ``(distinct vectors, dim)`` float32 array
        (several words may share a row, as in spaCy's pruned tables).

    Raises:
        ValueError: ``source`` is neither a readable ``.vec`` file nor an installed spaCy
            package with vectors.
    """
    path = Path(source)
    if path.suffix == ".vec" or path.is_file():
        if not path.is_file():
            raise ValueError(f"Word vector file not found: {path}.")
        return _read_vec_file(path)
    try:
        rows, vectors = _spacy_package_vectors(source)
    except (ImportError, OSError) as error:
        raise ValueError(
            f"Word vectors {source!r}: not a .vec file nor an installed spaCy package ({error})."
        ) from error
    if not rows:
        raise ValueError(f"spaCy package {source!r} has no word vectors.")
    return rows, vectors


class AveragedWordVectors(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """IDF-weighted mean word vector of the title and of the description (see the module).

    Attributes (after ``fit``):
        means_: The fitted :class:`~product_classifier.preprocessing.word_vector_means.
            WordVectorMeans`: every word of the table (so that words never seen in training
            still count), its vectors and the training IDF weights.
    """

    def __init__(self, source: str = DEFAULT_WORD_VECTORS) -> None:
        self.source = source

    def fit(self, documents: Sequence[object], y: object = None) -> Self:
        """Read the table and weigh each word by its IDF over the training documents.

        Raises:
            ValueError: The table cannot be read.
        """
        del y
        frequency: Counter[str] = Counter()
        for document in documents:
            title, description = document_words(document)
            frequency.update(set(title) | set(description))
        rows, vectors = load_word_vectors(self.source)
        # Only lower-case letters and digits can be tokens; the table keeps those words, their
        # rows renumbered, in float16 (half the size; the means are computed in float32).
        kept = {word: row for word, row in rows.items() if word.isalnum() and word == word.lower()}
        used = sorted(set(kept.values()))
        renumbered = {row: index for index, row in enumerate(used)}
        count = len(documents)
        weights = {
            word: float(np.log((1 + count) / (1 + seen)) + 1)
            for word, seen in frequency.items()
            if word in kept
        }
        self.means_ = WordVectorMeans.from_vocabulary(
            {word: renumbered[row] for word, row in kept.items()},
            vectors[used].astype(np.float16),
            weights,
        )
        return self

    def transform(self, documents: Sequence[object]) -> FloatArray:
        """Return the ``(len(documents), 2 * dim)`` float32 title and description blocks."""
        return self.means_.transform(list(documents))

    def get_feature_names_out(self, input_features: object = None) -> npt.NDArray[np.object_]:
        """Column names ``title_vector_0 ... description_vector_{dim-1}``."""
        del input_features
        dim = self.means_.dim
        return np.array(
            [f"{part}_vector_{i}" for part in ("title", "description") for i in range(dim)],
            dtype=object,
        )
