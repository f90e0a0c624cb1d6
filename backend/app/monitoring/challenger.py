"""Champion against challenger on the same production predictions.

Agreement: the share of shadowed predictions where both versions ranked the same category
first. Quality: on the shadowed predictions whose feedback names a known category, accuracy and
weighted F1 of both, and the challenger-minus-champion differences with 95% paired bootstrap
intervals (:func:`product_classifier.evaluation.comparison.score_top_categories`).
"""

import math
from collections import defaultdict
from collections.abc import Sequence

import numpy as np
from sqlalchemy.orm import Session

from app.db.crud.shadow_predictions import ShadowedPrediction, shadowed_predictions
from app.schemas.monitoring import (
    ChallengerComparison,
    ChallengerReport,
    ScoreDifference,
    TimeWindow,
)
from product_classifier.categories import code_to_index, is_category_code
from product_classifier.evaluation.comparison import Difference, score_top_categories

RESAMPLES = 400
"""Bootstrap draws per interval: each draw scores both models (a few ms for the weighted F1),
so the route answers in about a second per version pair instead of several."""


def _difference(difference: Difference) -> ScoreDifference:
    # A degenerate bootstrap (every draw equal) may give NaN bounds: use the value.
    def finite(bound: float) -> float:
        return bound if math.isfinite(bound) else difference.value

    return ScoreDifference(
        value=difference.value, low=finite(difference.low), high=finite(difference.high)
    )


def compare_versions(
    champion_version: str, challenger_version: str, rows: Sequence[ShadowedPrediction]
) -> ChallengerComparison:
    """Agreement and quality of one (champion, challenger) pair on its shadowed predictions."""
    agreed = sum(row.champion_category == row.challenger_category for row in rows)
    labelled = [
        (code_to_index(row.real_category), code_to_index(champion), code_to_index(challenger))
        for row in rows
        if (champion := row.champion_category) is not None
        and (challenger := row.challenger_category) is not None
        and row.real_category is not None
        and all(map(is_category_code, (row.real_category, champion, challenger)))
    ]
    scores = None
    if labelled:
        columns = np.array(labelled).T  # (3, rows): real, champion, challenger class indices
        scores = score_top_categories(columns[0], columns[1], columns[2], resamples=RESAMPLES)
    return ChallengerComparison(
        champion_version=champion_version,
        challenger_version=challenger_version,
        shadowed=len(rows),
        agreed=agreed,
        agreement_rate=agreed / len(rows) if rows else None,
        labelled=len(labelled),
        champion_accuracy=scores.champion_accuracy if scores else None,
        challenger_accuracy=scores.challenger_accuracy if scores else None,
        champion_weighted_f1=scores.champion_f1 if scores else None,
        challenger_weighted_f1=scores.challenger_f1 if scores else None,
        accuracy_difference=_difference(scores.accuracy_gain) if scores else None,
        weighted_f1_difference=_difference(scores.f1_gain) if scores else None,
    )


def challenger_report(
    session: Session,
    window: TimeWindow,
    *,
    model_name: str,
    champion_alias: str,
    challenger_alias: str | None,
    champion_version: str | None,
    challenger_version: str | None,
) -> ChallengerReport:
    """Every (champion, challenger) version pair of ``model_name`` seen in ``window``."""
    by_pair: dict[tuple[str, str], list[ShadowedPrediction]] = defaultdict(list)
    for row in shadowed_predictions(session, model_name, window.start, window.end):
        by_pair[row.champion_version, row.challenger_version].append(row)
    return ChallengerReport(
        window=window,
        model_name=model_name,
        champion_alias=champion_alias,
        challenger_alias=challenger_alias,
        champion_version=champion_version,
        challenger_version=challenger_version,
        comparisons=[
            compare_versions(champion, challenger, rows)
            for (champion, challenger), rows in sorted(by_pair.items())
        ],
    )
