"""Text cleaning: HTML really goes, entities are decoded, numbers go, words are stemmed."""

import math
import re
import threading

import pandas as pd
import pytest

from product_classifier.paths import REAL_SAMPLE_DIR
from product_classifier.preprocessing.text import (
    FRENCH_STOP_WORDS,
    clean_text,
    clean_title,
    document_title,
    normalize_text,
    normalize_title_keeping_numbers,
    product_text,
    stem_word,
)

_HTML_LEFTOVER = re.compile(r"[<>&;/=\"]|\b(?:nbsp|href|eacute|amp|quot)\b")


@pytest.mark.parametrize(
    "raw",
    [
        "<p>Chaise</p>",
        "<br />Chaise<br/>",
        '<div class="desc" style="color:red">Chaise</div>',
        "<P ALIGN=center>Chaise</P>",
        '<a href="https://example.com/x?a=1&amp;b=2">Chaise</a>',
        "<!-- commentaire --><strong>Chaise</strong>",
        "<script>var prix = 12;</script>Chaise<style>p { color: red }</style>",
        "&lt;p&gt;Chaise&lt;/p&gt;",
        "&amp;lt;li&amp;gt;Chaise",
    ],
)
def test_html_is_removed(raw):
    assert normalize_text(raw) == "chaise"
    assert clean_text(raw) == "chais"


def test_html_tags_separate_words():
    assert normalize_text("rouge<br>bleu<li>vert</li>") == "rouge bleu vert"


def test_comparison_signs_are_not_mistaken_for_tags():
    assert normalize_text("taille < grande > petite") == "taille grande petite"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("id&eacute;e", "idée"),
        ("id&amp;eacute;e", "idée"),
        ("id&amp;amp;eacute;e", "idée"),
        ("l&#39;&eacute;cole", "l école"),
        ("&Agrave; c&ocirc;t&eacute;", "à côté"),
        ("Jeux&nbsp;vid&eacute;o", "jeux vidéo"),
        ("Tapestry &amp; nbsp Mode", "tapestry mode"),
    ],
)
def test_entities_are_decoded(raw, expected):
    assert normalize_text(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Tente 3 x 4m50", "tente x m"),
        ("Lot de 2pcs 240x320 mm", "lot de pcs x mm"),
        ("Surface 135 m²", "surface m"),
        ("Prix: 12,99 €", "prix"),
    ],
)
def test_numbers_are_removed_and_punctuation_normalised(raw, expected):
    assert normalize_text(raw) == expected
    assert not re.search(r"\d", clean_text(raw))


def test_text_is_lower_cased_stemmed_and_stop_words_dropped():
    cleaned = clean_text("Les Chaussures ÉLÉGANTES pour les enfants")
    assert cleaned == "chaussur eleg enfant"
    assert stem_word("chaussures") == "chaussur"
    assert stem_word("élégantes") == stem_word("elegantes") == "eleg"
    assert {"les", "pour"} <= FRENCH_STOP_WORDS


def test_inflections_share_one_stem():
    assert (
        len({clean_text(word) for word in ["élégante", "élégants", "ELEGANTES", "Élégance"]}) == 1
    )


@pytest.mark.parametrize("missing", [None, math.nan, pd.NA, "", "   ", 42, "<br/>", "123 456"])
def test_missing_or_empty_values_give_empty_text(missing):
    assert clean_text(missing) == ""
    assert normalize_text(missing) == ""


def test_product_text_combines_title_and_description():
    # The title counts twice: it says what the product is.
    assert product_text("Chaise", "<p>En bois</p>") == "Chaise Chaise <p>En bois</p>"
    assert product_text(" Chaise ", None) == "Chaise Chaise"
    assert product_text(math.nan, "En bois") == "En bois"
    assert product_text(None, None) == ""
    assert product_text("", "  ") == ""


def test_cleaning_is_thread_safe():
    words = [f"mot{index} chaussures élégantes poupées rangement" for index in range(200)]
    expected = [clean_text(text) for text in words]
    stem_word.cache_clear()
    results: list[list[str]] = []

    def work() -> None:
        results.append([clean_text(text) for text in words])

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(result == expected for result in results)


@pytest.mark.skipif(not (REAL_SAMPLE_DIR / "X.csv").exists(), reason="real sample folder absent")
def test_real_descriptions_lose_all_html():
    frame = pd.read_csv(REAL_SAMPLE_DIR / "X.csv", index_col=0)
    with_html = frame["description"].dropna()
    with_html = with_html[with_html.str.contains(r"<\w|&\w+;", regex=True)]
    assert len(with_html) > 100
    for raw in with_html:
        cleaned = clean_text(raw)
        assert not _HTML_LEFTOVER.search(cleaned), cleaned
        assert not re.search(r"\d", cleaned)


@pytest.mark.parametrize(
    ("title", "description"),
    [
        ("Chaise en bois", "Chaise de cuisine"),
        ("a a", "b"),
        ("Poupée", None),
        ("Lot de 2 lot de 2", ""),
        ("", "Seulement une description"),
        ("", None),
    ],
)
def test_document_title_recovers_the_title_from_the_document(title, description):
    document = product_text(title, description)
    assert document_title(document) == (title or document)


def test_title_features_read_the_title_only():
    document = product_text("Console PS4 noire", "<p>Livrée avec manettes</p>")
    assert clean_title(document) == clean_text("Console PS4 noire")
    assert normalize_title_keeping_numbers(document) == "console ps4 noire"


@pytest.mark.skipif(not (REAL_SAMPLE_DIR / "X.csv").exists(), reason="real sample folder absent")
def test_document_title_recovers_every_real_title():
    frame = pd.read_csv(REAL_SAMPLE_DIR / "X.csv", index_col=0)
    for title, description in zip(frame["designation"], frame["description"], strict=True):
        title_text = title.strip() if isinstance(title, str) else ""
        if title_text:
            assert document_title(product_text(title, description)) == title_text
