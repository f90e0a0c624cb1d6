"""Words, brands, measures and class frequencies of the synthetic sample generator.

Related categories form a family that shares nouns, qualifiers, brands and measures, so that a
model has something to learn without every category being trivially separable. Brands are
invented. Class frequencies are the product counts of the Rakuten France training set.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

REAL_CATEGORY_COUNTS: Final[Mapping[int, int]] = MappingProxyType(
    {
        10: 3116,
        40: 2508,
        50: 1681,
        60: 832,
        1140: 2671,
        1160: 3953,
        1180: 764,
        1280: 4870,
        1281: 2070,
        1300: 5045,
        1301: 807,
        1302: 2491,
        1320: 3241,
        1560: 5073,
        1920: 4303,
        1940: 803,
        2060: 4993,
        2220: 824,
        2280: 4760,
        2403: 4774,
        2462: 1421,
        2522: 4989,
        2582: 2589,
        2583: 10209,
        2585: 2496,
        2705: 2761,
        2905: 872,
    }
)
"""Products per category in the Rakuten France training set (84,916 products)."""

Measure = tuple[str, int, int]
"""A measure template with ``{a}`` and ``{b}`` placeholders and the range they are drawn from."""


@dataclass(frozen=True)
class Vocabulary:
    """Words of a category or of a family of categories.

    Attributes:
        nouns: Product nouns, the head of titles.
        qualifiers: Adjectives and attributes.
        brands: Brand-like tokens.
        uses: Phrases completing "Idéal pour ..." in descriptions.
        measures: Numbers and sizes (see :data:`Measure`).
    """

    nouns: tuple[str, ...]
    qualifiers: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    uses: tuple[str, ...] = ()
    measures: tuple[Measure, ...] = ()


@dataclass(frozen=True)
class Family:
    """Related categories and the vocabulary they share."""

    name: str
    codes: tuple[int, ...]
    vocabulary: Vocabulary


FAMILIES: Final = (
    Family(
        "books",
        (10, 2705, 2403, 2280),
        Vocabulary(
            nouns=("livre", "tome", "volume", "recueil", "édition", "collection", "ouvrage"),
            qualifiers=("illustré", "broché", "relié", "intégrale", "préface", "inédit", "poche"),
            brands=("Éditions du Phare", "Librairie Mirabelle", "Plume d'Or"),
            uses=("les passionnés de lecture", "votre bibliothèque", "offrir à un lecteur"),
            measures=(("{a} pages", 48, 980), ("tome {a}", 1, 24), ("{a} x {b} cm", 11, 30)),
        ),
    ),
    Family(
        "video games",
        (40, 50, 60, 2462, 2905),
        Vocabulary(
            nouns=("jeu", "console", "manette", "édition", "pack"),
            qualifiers=("PAL", "FR", "version française", "neuf sous blister", "occasion", "HD"),
            brands=("Nintendo-Like", "PlayStar", "XBoxer", "Segami", "Ubisoftware"),
            uses=("les gamers", "jouer en ligne", "les soirées entre amis"),
            measures=(("{a} Go", 8, 1000), ("{a} joueurs", 1, 4), ("PEGI {a}", 3, 18)),
        ),
    ),
    Family(
        "toys and collectibles",
        (1280, 1281, 1300, 1140, 1180, 1160),
        Vocabulary(
            nouns=("figurine", "jouet", "jeu", "collection", "personnage", "coffret"),
            qualifiers=("collector", "officiel", "édition limitée", "à collectionner", "rare"),
            brands=("Hasbrio", "Mattelo", "Figurama", "Kidzone"),
            uses=("les collectionneurs", "les enfants", "les fans"),
            measures=(("{a} cm", 5, 60), ("dès {a} ans", 3, 14), ("lot de {a}", 2, 12)),
        ),
    ),
    Family(
        "home",
        (1560, 2060, 1920, 2582),
        Vocabulary(
            nouns=("meuble", "table", "coussin", "ensemble", "lot"),
            qualifiers=("design", "moderne", "scandinave", "vintage", "blanc", "gris", "bois"),
            brands=("Maison Lune", "Atelier Nord", "Home&Co", "Décor'in"),
            uses=("votre salon", "la maison", "une ambiance chaleureuse"),
            measures=(("{a} x {b} cm", 30, 240), ("lot de {a}", 2, 6), ("{a} places", 2, 8)),
        ),
    ),
    Family(
        "garden, pool and outdoors",
        (2583, 2585, 1302, 1301),
        Vocabulary(
            nouns=("kit", "accessoire", "jardin", "extérieur", "set"),
            qualifiers=("résistant", "étanche", "pliable", "acier", "PVC", "professionnel"),
            brands=("Aquaflex", "Jardimax", "Outdor", "ProBrico"),
            uses=("le jardin", "les beaux jours", "un usage intensif"),
            measures=(("{a} x {b} m", 1, 12), ("{a} W", 250, 2200), ("{a} V", 12, 36)),
        ),
    ),
    Family(
        "everyday",
        (1320, 1940, 2220, 2522),
        Vocabulary(
            nouns=("lot", "set", "accessoire", "pack"),
            qualifiers=("pratique", "qualité", "naturel", "coloré", "économique"),
            brands=("Quotidia", "Bonjour Maison", "VitaPlus"),
            uses=("le quotidien", "toute la famille", "la maison"),
            measures=(("lot de {a}", 2, 24), ("{a} g", 50, 1000), ("{a} cm", 5, 120)),
        ),
    ),
)
"""Families of related categories; every category belongs to exactly one."""

CATEGORY_VOCABULARY: Final[Mapping[int, Vocabulary]] = MappingProxyType(
    {
        10: Vocabulary(
            nouns=("novel", "guide", "history", "stories", "paperback", "handbook", "biography"),
            qualifiers=("english edition", "second edition", "illustrated", "annotated"),
            brands=("Penguin Quill", "Oxford Lantern", "Harbour Books"),
            uses=("english readers", "students"),
            measures=(("{a} pages", 120, 720), ("volume {a}", 1, 9)),
        ),
        2705: Vocabulary(
            nouns=("roman", "récit", "essai", "biographie", "polar", "thriller", "conte"),
            qualifiers=("grand format", "prix littéraire", "best-seller", "inédit"),
            brands=("Éditions Azur", "Folio Bleu", "Gallimarde"),
            uses=("les amateurs de romans", "les vacances"),
            measures=(("{a} pages", 96, 640), ("parution {a}", 2005, 2021)),
        ),
        2403: Vocabulary(
            nouns=("livre ancien", "gravure", "édition originale", "almanach", "manuscrit"),
            qualifiers=("ancien", "in-8", "in-12", "cuir", "dorure", "XIXe siècle", "rare"),
            brands=("Librairie Hachet", "Imprimerie Royale"),
            uses=("les bibliophiles", "les collectionneurs de livres anciens"),
            measures=(("{a}", 1780, 1960), ("{a} volumes", 2, 12)),
        ),
        2280: Vocabulary(
            nouns=("magazine", "revue", "bande dessinée", "album", "hors-série", "mensuel"),
            qualifiers=("numéro", "BD", "comics", "manga", "spécial"),
            brands=("Spirou Mag", "Paris Hebdo", "Science & Vous"),
            uses=("les fans de BD", "les abonnés"),
            measures=(("N° {a}", 1, 850), ("{a}", 1975, 2019)),
        ),
        40: Vocabulary(
            nouns=("jeu vidéo", "jeu PS4", "jeu Xbox One", "jeu Switch", "jeu Wii"),
            qualifiers=("aventure", "course", "action", "RPG", "édition collector"),
            brands=("FIFA Stars", "Mario Racing", "Zelda Quest", "Call of Battle"),
            uses=("les fans d'aventure", "jouer en famille"),
            measures=(("PEGI {a}", 3, 18),),
        ),
        50: Vocabulary(
            nouns=("manette", "câble", "chargeur", "coque", "casque gaming", "adaptateur"),
            qualifiers=("sans fil", "USB", "compatible PS4", "compatible Switch", "bluetooth"),
            brands=("GameTek", "PadPro", "Dobe-Like"),
            uses=("recharger vos manettes", "protéger votre console"),
            measures=(("{a} m", 1, 5), ("{a} mAh", 400, 2600)),
        ),
        60: Vocabulary(
            nouns=("console", "console portable", "console rétro", "console de salon"),
            qualifiers=("reconditionnée", "noire", "blanche", "slim", "pro"),
            brands=("PlayStar", "XBoxer", "Segami"),
            uses=("jouer en HD", "retrouver les classiques"),
            measures=(("{a} Go", 32, 1000), ("{a} To", 1, 2)),
        ),
        2462: Vocabulary(
            nouns=("lot de jeux", "pack console", "bundle", "lot jeux vidéo", "lot console"),
            qualifiers=("console + jeux", "avec manettes", "complet", "occasion"),
            brands=("PlayStar", "Nintendo-Like"),
            uses=("démarrer une collection", "bien commencer"),
            measures=(("lot de {a} jeux", 2, 15),),
        ),
        2905: Vocabulary(
            nouns=("jeu PC", "DVD-ROM", "clé de téléchargement", "jeu Windows", "simulation"),
            qualifiers=("PC", "Windows 10", "stratégie", "version boîte", "Steam"),
            brands=("Simulo", "Strategix", "Ubisoftware"),
            uses=("les joueurs PC", "les amateurs de stratégie"),
            measures=(("{a} Go d'espace disque", 8, 120),),
        ),
        1280: Vocabulary(
            nouns=("peluche", "poupée", "voiture télécommandée", "puzzle", "jouet d'éveil"),
            qualifiers=("enfant", "bébé", "éducatif", "musical", "lumineux"),
            brands=("Kidzone", "Petit Lutin", "Jouéclub-Like"),
            uses=("les enfants", "l'éveil des tout-petits"),
            measures=(("{a} pièces", 24, 1000), ("dès {a} mois", 6, 36)),
        ),
        1281: Vocabulary(
            nouns=("jeu de société", "jeu de plateau", "jeu de cartes", "extension", "dés"),
            qualifiers=("stratégie", "coopératif", "ambiance", "famille", "règles"),
            brands=("Asmodix", "Ludoka", "Cocktail Games"),
            uses=("les soirées jeux", "jouer en famille"),
            measures=(("{a} à {b} joueurs", 2, 8), ("{a} min", 15, 120)),
        ),
        1300: Vocabulary(
            nouns=("miniature", "modèle réduit", "maquette", "drone", "hélicoptère RC"),
            qualifiers=("métal", "die-cast", "radiocommandé", "échelle", "quadricoptère"),
            brands=("Solido-Like", "Burago", "Norev", "SkyRider"),
            uses=("les collectionneurs de miniatures", "le modélisme"),
            measures=(("1/{a}", 18, 87), ("{a} mAh", 300, 1500)),
        ),
        1140: Vocabulary(
            nouns=("figurine", "statuette", "figurine Pop", "buste", "porte-clés"),
            qualifiers=("manga", "PVC", "vinyle", "série TV", "super-héros"),
            brands=("Funky Pop", "Figurama", "Banpresto-Like"),
            uses=("les fans de manga", "décorer un bureau"),
            measures=(("{a} cm", 8, 35),),
        ),
        1180: Vocabulary(
            nouns=("figurine fantastique", "armée", "jeu de rôle", "dragon", "escouade"),
            qualifiers=("elfe", "orque", "space marine", "à peindre", "fantasy"),
            brands=("Warhammo", "Games Forge", "Citadelle"),
            uses=("les wargames", "les maîtres du jeu"),
            measures=(("{a} mm", 25, 54), ("{a} figurines", 5, 30)),
        ),
        1160: Vocabulary(
            nouns=("carte", "booster", "deck", "carte holo", "carte rare"),
            qualifiers=("foil", "VF", "promo", "mint", "édition 1"),
            brands=("Pokékarte", "Magic Arcana", "Yu-Duel"),
            uses=("les dresseurs", "compléter votre deck"),
            measures=(("{a}/{b}", 1, 250), ("{a} cartes", 10, 60)),
        ),
        1560: Vocabulary(
            nouns=("commode", "armoire", "étagère", "chaise", "table basse", "buffet"),
            qualifiers=("chêne", "bois massif", "tiroirs", "pieds métal", "laqué"),
            brands=("Ikeo", "Meublor", "Conforama-Like"),
            uses=("la chambre", "la salle à manger"),
            measures=(("{a} tiroirs", 2, 8), ("H{a} cm", 40, 200)),
        ),
        2060: Vocabulary(
            nouns=("cadre photo", "vase", "lampe", "miroir", "horloge murale", "guirlande"),
            qualifiers=("décoratif", "doré", "céramique", "LED", "bohème"),
            brands=("Déco Rêve", "Lumina", "Atmosphéra"),
            uses=("décorer votre intérieur", "une touche déco"),
            measures=(("Ø {a} cm", 10, 80),),
        ),
        1920: Vocabulary(
            nouns=("housse de couette", "drap housse", "oreiller", "rideau", "parure de lit"),
            qualifiers=("coton", "percale", "occultant", "microfibre", "voilage"),
            brands=("Linvosges-Like", "Dodo Doux", "Tissea"),
            uses=("des nuits douces", "habiller vos fenêtres"),
            measures=(("{a} x {b} cm", 60, 260), ("{a} fils", 57, 120)),
        ),
        2582: Vocabulary(
            nouns=("salon de jardin", "transat", "parasol", "table de jardin", "hamac"),
            qualifiers=("résine tressée", "aluminium", "teck", "extérieur", "terrasse"),
            brands=("Jardimax", "Hespérid", "Terrasso"),
            uses=("la terrasse", "profiter du jardin"),
            measures=(("{a} places", 2, 8), ("Ø {a} cm", 180, 350)),
        ),
        2583: Vocabulary(
            nouns=("piscine", "pompe", "filtre à sable", "bâche", "robot piscine", "spa"),
            qualifiers=("hors-sol", "tubulaire", "gonflable", "chlore", "liner", "skimmer"),
            brands=("Aquaflex", "Intexo", "Bestwey", "Zodiak"),
            uses=("l'entretien de la piscine", "une eau limpide"),
            measures=(("{a} m3/h", 2, 15), ("{a} x {b} m", 2, 10), ("{a} L", 5, 50)),
        ),
        2585: Vocabulary(
            nouns=("perceuse", "visseuse", "scie", "tondeuse", "tuyau d'arrosage", "coffret"),
            qualifiers=("sans fil", "électrique", "lithium", "outillage", "jardinage"),
            brands=("ProBrico", "Boschy", "Makito", "Stanlay"),
            uses=("les travaux", "le bricolage"),
            measures=(("{a} W", 400, 2000), ("{a} V", 12, 36), ("{a} mm", 3, 12)),
        ),
        1302: Vocabulary(
            nouns=("trampoline", "tente", "canne à pêche", "sac à dos", "vélo", "kayak"),
            qualifiers=("camping", "randonnée", "pêche", "sport", "plein air"),
            brands=("Outdor", "Quechuo", "Randonix"),
            uses=("les activités de plein air", "le camping"),
            measures=(("Ø {a} cm", 180, 430), ("{a} L", 20, 70)),
        ),
        1301: Vocabulary(
            nouns=("fléchettes", "cible", "baby-foot", "billard", "table de ping-pong"),
            qualifiers=("jeu de bar", "pointe acier", "électronique", "loisir"),
            brands=("Winmau-Like", "Cornilleau-Like"),
            uses=("la salle de jeux", "les loisirs"),
            measures=(("{a} g", 18, 26),),
        ),
        1320: Vocabulary(
            nouns=("poussette", "biberon", "siège auto", "tétine", "bavoir", "lit parapluie"),
            qualifiers=("bébé", "naissance", "puériculture", "anti-colique", "sans BPA"),
            brands=("Bébéconfort", "Chicoo", "Tigex-Like"),
            uses=("les jeunes parents", "le confort de bébé"),
            measures=(("{a} ml", 150, 330), ("{a} mois", 0, 36)),
        ),
        1940: Vocabulary(
            nouns=("café", "thé", "chocolat", "bonbons", "capsules", "épices"),
            qualifiers=("bio", "gourmand", "arabica", "sucré", "épicerie fine"),
            brands=("Saveurs d'Antan", "Gourmandia", "Nespresso-Like"),
            uses=("la pause café", "les gourmands"),
            measures=(("{a} g", 100, 1000), ("{a} capsules", 10, 100)),
        ),
        2220: Vocabulary(
            nouns=("collier", "laisse", "gamelle", "arbre à chat", "harnais", "niche"),
            qualifiers=("chien", "chat", "animaux", "réglable", "rongeur"),
            brands=("Zolux-Like", "Pet Joy", "Canina"),
            uses=("votre chien", "votre chat"),
            measures=(("taille {a}", 1, 5),),
        ),
        2522: Vocabulary(
            nouns=("cahier", "stylo", "classeur", "agenda", "ramette", "feutres", "carnet"),
            qualifiers=("A4", "A5", "seyès", "papeterie", "bureau", "à spirale"),
            brands=("Clairefontane", "Oxfort", "Bic-Like", "Exacompta-Like"),
            uses=("l'école", "le bureau"),
            measures=(("{a} pages", 48, 192), ("{a} g/m2", 70, 90), ("{a} x {b} mm", 90, 320)),
        ),
    }
)
"""Words that belong to one category."""

GENERIC_QUALIFIERS: Final = (
    "neuf",
    "promo",
    "pas cher",
    "qualité",
    "original",
    "nouveau",
    "livraison rapide",
    "garantie",
)

FILLER_SENTENCES: Final = (
    "Produit neuf, expédié sous 48h.",
    "Livraison rapide et soignée.",
    "Garantie satisfait ou remboursé.",
    "Photo non contractuelle.",
    "Idéal pour faire un cadeau.",
    "Vendu par un professionnel.",
    "Envoi suivi en colissimo.",
    "Article d'occasion en très bon état.",
)

HTML_ENTITIES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "é": "&eacute;",
        "è": "&egrave;",
        "ê": "&ecirc;",
        "à": "&agrave;",
        "ç": "&ccedil;",
        "ô": "&ocirc;",
        "'": "&#39;",
        "°": "&deg;",
        "&": "&amp;",
    }
)
"""Characters the real descriptions often carry as HTML entities."""
