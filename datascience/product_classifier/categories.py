"""The 27 Rakuten France product categories: the one table the whole project imports.

Each category has its Rakuten ``prdtypecode`` (what datasets, the API and feedback use) and a
French name. Models work with the simplified index 0..26, in the order of :data:`CATEGORIES`.
"""

from types import MappingProxyType
from typing import Final

CATEGORIES: Final = MappingProxyType(
    {
        10: "Livre d'occasion",
        40: "Jeu vidéo - Jeu",
        50: "Jeu vidéo - Accessoire",
        60: "Jeu vidéo - Console",
        1140: "Figurine et produits dérivés",
        1160: "Carte à collectionner",
        1180: "Univers fantastiques",
        1280: "Jouet pour enfant",
        1281: "Jeu de société",
        1300: "Miniature de collection",
        1301: "Loisir",
        1302: "Activité d'extérieur",
        1320: "Accessoire bébé",
        1560: "Meuble d'intérieur",
        1920: "Literie, rideaux",
        1940: "Epicerie",
        2060: "Décoration d'intérieur",
        2220: "Accessoire animaux de compagnie",
        2280: "Magazine et BD",
        2403: "Livres anciens",
        2462: "Jeu vidéo - Pack",
        2522: "Fourniture de bureau",
        2582: "Meubles extérieur",
        2583: "Piscine",
        2585: "Bricolage",
        2705: "Livre neuf",
        2905: "Jeu vidéo - Jeu PC",
    }
)
"""Category code (``prdtypecode``) → French name, in model index order."""

CATEGORY_CODES: Final[tuple[int, ...]] = tuple(CATEGORIES)
"""Category codes in model index order: ``CATEGORY_CODES[index]`` is the code of class ``index``."""

NUM_CATEGORIES: Final = len(CATEGORY_CODES)

_INDEX_BY_CODE: Final = MappingProxyType({code: index for index, code in enumerate(CATEGORY_CODES)})


class UnknownCategoryError(ValueError):
    """Raised for a category code that is not one of the 27 Rakuten codes."""


def is_category_code(code: int) -> bool:
    """Tell whether ``code`` is one of the 27 category codes."""
    return code in _INDEX_BY_CODE


def code_to_index(code: int) -> int:
    """Return the model index (0..26) of a category code.

    Raises:
        UnknownCategoryError: ``code`` is not a known category.
    """
    try:
        return _INDEX_BY_CODE[int(code)]
    except KeyError:
        raise UnknownCategoryError(f"Unknown category code: {code}") from None


def index_to_code(index: int) -> int:
    """Return the category code of a model index (0..26)."""
    if not 0 <= index < NUM_CATEGORIES:
        raise UnknownCategoryError(f"Category index out of range: {index}")
    return CATEGORY_CODES[index]


def category_name(code: int) -> str:
    """Return the French name of a category code."""
    return CATEGORIES[CATEGORY_CODES[code_to_index(code)]]
