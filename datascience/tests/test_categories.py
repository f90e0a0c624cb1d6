"""The category table: 27 codes, each with a name a person can tell from the others."""

from product_classifier.categories import CATEGORIES, CATEGORY_CODES, NUM_CATEGORIES


def test_27_codes_in_model_order() -> None:
    assert len(CATEGORIES) == NUM_CATEGORIES == 27
    assert list(CATEGORIES) == list(CATEGORY_CODES)


def test_every_name_is_unique() -> None:
    names = list(CATEGORIES.values())
    assert len(set(names)) == len(names), sorted(names)


def test_the_two_book_categories_say_which_is_which() -> None:
    # The challenge's 10 (second-hand books) and 2705 (new books), once both shown as "Livre".
    assert CATEGORIES[10] == "Livre d'occasion"
    assert CATEGORIES[2705] == "Livre neuf"
