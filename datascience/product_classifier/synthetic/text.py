"""French titles and descriptions of synthetic products.

Each product draws most of its words from its category, some from its family of related
categories and a few from anywhere, so related categories overlap. About 35% of descriptions are
empty; the others carry HTML tags and entities as the real data does.
"""

from collections.abc import Sequence
from typing import Final, TypeVar

import numpy as np

from product_classifier.synthetic.vocabulary import (
    CATEGORY_VOCABULARY,
    FAMILIES,
    FILLER_SENTENCES,
    GENERIC_QUALIFIERS,
    HTML_ENTITIES,
    Family,
    Measure,
    Vocabulary,
)

EMPTY_DESCRIPTION_SHARE: Final = 0.35
HTML_SHARE: Final = 0.55
"""Share of non-empty descriptions written with HTML tags."""
ENTITY_SHARE: Final = 0.45
"""Share of non-empty descriptions whose accents are written as HTML entities."""
AMBIGUOUS_RELATED_SHARE: Final = 0.1
"""Share of products written with the words of a related category."""
AMBIGUOUS_ANY_SHARE: Final = 0.03
"""Share of products written with the words of any category."""

_FAMILY_OF: Final = {code: family for family in FAMILIES for code in family.codes}
_ALL_CODES: Final = tuple(CATEGORY_VOCABULARY)

T = TypeVar("T")


def family_of(code: int) -> Family:
    """Return the family of related categories that ``code`` belongs to."""
    return _FAMILY_OF[code]


def _pick(rng: np.random.Generator, options: Sequence[T]) -> T:
    return options[int(rng.integers(len(options)))]


def _source(rng: np.random.Generator, code: int, own: float, family: float) -> Vocabulary:
    """Pick the vocabulary a word comes from: the category's, its family's or any category's."""
    draw = rng.random()
    if draw < own:
        return CATEGORY_VOCABULARY[code]
    if draw < own + family:
        return family_of(code).vocabulary
    return CATEGORY_VOCABULARY[_pick(rng, _ALL_CODES)]


def _noun(rng: np.random.Generator, code: int) -> str:
    return _pick(rng, _source(rng, code, 0.6, 0.3).nouns)


def _qualifier(rng: np.random.Generator, code: int) -> str:
    if rng.random() < 0.1:
        return _pick(rng, GENERIC_QUALIFIERS)
    vocabulary = _source(rng, code, 0.45, 0.4)
    return _pick(rng, vocabulary.qualifiers or GENERIC_QUALIFIERS)


def _brand(rng: np.random.Generator, code: int) -> str:
    own = CATEGORY_VOCABULARY[code].brands
    shared = family_of(code).vocabulary.brands
    return _pick(rng, own if rng.random() < 0.5 or not shared else shared)


def _measure(rng: np.random.Generator, code: int) -> str:
    own = CATEGORY_VOCABULARY[code].measures
    shared = family_of(code).vocabulary.measures
    measures: Sequence[Measure] = own if own and rng.random() < 0.5 else shared
    template, low, high = _pick(rng, measures)
    first = int(rng.integers(low, high + 1))
    second = int(rng.integers(first, high + 1)) if "{b}" in template else 0
    return template.format(a=first, b=second)


def _reference(rng: np.random.Generator) -> str:
    letters = "".join(chr(ord("A") + int(value)) for value in rng.integers(0, 26, size=2))
    return f"{letters}-{int(rng.integers(100, 99999))}"


def _case(rng: np.random.Generator, text: str) -> str:
    draw = rng.random()
    if draw < 0.55:
        return " ".join(word[:1].upper() + word[1:] for word in text.split(" "))
    if draw < 0.63:
        return text.upper()
    return text[:1].upper() + text[1:]


def writing_category(rng: np.random.Generator, code: int) -> int:
    """Return the category whose words a product of ``code`` is written with.

    Most products use their own category; some are ambiguous and read like a related category
    (or, rarely, any category), as mislabelled or borderline products do in the real data.
    """
    draw = rng.random()
    if draw < AMBIGUOUS_ANY_SHARE:
        return _pick(rng, _ALL_CODES)
    if draw < AMBIGUOUS_ANY_SHARE + AMBIGUOUS_RELATED_SHARE:
        return _pick(rng, family_of(code).codes)
    return code


def make_title(rng: np.random.Generator, code: int) -> str:
    """Write a product title (``designation``) for a category.

    Args:
        rng: Random generator (the only source of randomness).
        code: Category code.

    Returns:
        A French title with a noun, qualifiers, often a brand and a measure.
    """
    parts = [_noun(rng, code)]
    parts.extend(_qualifier(rng, code) for _ in range(int(rng.integers(1, 4))))
    if rng.random() < 0.5:
        brand = _brand(rng, code)
        parts.insert(0 if rng.random() < 0.7 else 1, brand)
    if rng.random() < 0.6:
        separator = _pick(rng, ("", "-", "/", ","))
        if separator == ",":
            parts[-1] += ","
        elif separator:
            parts.append(separator)
        parts.append(_measure(rng, code))
    if rng.random() < 0.12:
        parts.append(_reference(rng))
    return _case(rng, " ".join(parts))


def _sentences(rng: np.random.Generator, code: int, title: str) -> list[str]:
    noun = _noun(rng, code)
    templates = [
        lambda: (
            f"{noun[:1].upper()}{noun[1:]} {_qualifier(rng, code)} de la marque "
            f"{_brand(rng, code)}."
        ),
        lambda: f"Idéal pour {_pick(rng, _source(rng, code, 0.7, 0.3).uses or ('tous',))}.",
        lambda: f"Dimensions : {_measure(rng, code)}.",
        lambda: (
            f"Caractéristiques : {_qualifier(rng, code)}, {_qualifier(rng, code)}, "
            f"{_measure(rng, code)}."
        ),
        lambda: (
            f"Cet article {_qualifier(rng, code)} est parfait pour "
            f"{_pick(rng, CATEGORY_VOCABULARY[code].uses or ('tous',))} & {_noun(rng, code)}."
        ),
        lambda: _pick(rng, FILLER_SENTENCES),
    ]
    count = int(rng.integers(1, 6))
    chosen = [templates[int(index)]() for index in rng.integers(0, len(templates), size=count)]
    if rng.random() < 0.3:
        chosen.insert(0, title + ".")
    return chosen


def _to_html(rng: np.random.Generator, sentences: list[str]) -> str:
    style = int(rng.integers(4))
    if style == 0:
        return "".join(f"<p>{sentence}</p>" for sentence in sentences)
    if style == 1:
        return "<br />".join(sentences)
    if style == 2:
        head, *rest = sentences
        items = "".join(f"<li>{sentence}</li>" for sentence in rest)
        return f"<p><strong>{head}</strong></p><ul>{items}</ul>" if items else f"<b>{head}</b>"
    words = " ".join(sentences).split(" ")
    position = int(rng.integers(len(words)))
    words[position] = f"<strong>{words[position]}</strong>"
    return "<div>" + " ".join(words) + "<br /></div>"


def _to_entities(text: str) -> str:
    text = text.replace("&", HTML_ENTITIES["&"])
    for character, entity in HTML_ENTITIES.items():
        if character != "&":
            text = text.replace(character, entity)
    return text


def make_description(rng: np.random.Generator, code: int, title: str) -> str:
    """Write a product description for a category (empty for about 35% of products).

    Args:
        rng: Random generator (the only source of randomness).
        code: Category code.
        title: The product's title, which descriptions sometimes repeat.

    Returns:
        ``""`` or one to six sentences, often with HTML tags and entities.
    """
    if rng.random() < EMPTY_DESCRIPTION_SHARE:
        return ""
    sentences = _sentences(rng, code, title)
    text = _to_html(rng, sentences) if rng.random() < HTML_SHARE else " ".join(sentences)
    return _to_entities(text) if rng.random() < ENTITY_SHARE else text
