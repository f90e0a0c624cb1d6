"""Drift statistics: recent predictions compared with the served model's training data.

Both sides are :class:`~product_classifier.drift_reference.DataProfile` objects built by
the same code (the training one is logged with the model's run). The statistics:

=================================  =====================  =========  ============================
statistic                          method                 threshold  compares
=================================  =====================  =========  ============================
``designation_length``             PSI over length bins   0.2        title lengths (characters)
``description_length``             PSI over length bins   0.2        description lengths
``empty_description_rate``         absolute difference    0.10       share of blank descriptions
``image_rate``                     absolute difference    0.10       share of products with image
``category_distribution``          PSI over 27 categories 0.2        training labels vs predicted
=================================  =====================  =========  ============================

PSI (population stability index) = sum over bins of ``(q - p) * ln(q / p)``, with ``p`` the
reference share and ``q`` the recent share of each bin, both smoothed with half a count per bin
(``(count + 0.5) / (total + 0.5 * bins)``) so that an empty bin does not give an infinite value.
Usual reading: below 0.1 stable, 0.1 to 0.2 moderate shift, above 0.2 significant shift.

A statistic is flagged (``drifted``) when it is above its threshold and the window holds at least
``min_predictions`` predictions (default 100): with fewer, sampling noise alone pushes PSI over
27 categories past 0.2 (its expected value under no drift is about ``(bins - 1) / n``).
"""

import math
from collections.abc import Sequence
from typing import Final, Literal

from app.schemas.monitoring import DriftStatistic, LengthDistribution, ProfileSummary
from product_classifier.drift_reference import DataProfile, LengthHistogram

PSI_THRESHOLD: Final = 0.2
RATE_THRESHOLD: Final = 0.10
MIN_PREDICTIONS: Final = 100
SMOOTHING: Final = 0.5
"""Pseudo-count added to every bin before computing shares (PSI)."""


def psi(reference: Sequence[int], recent: Sequence[int], smoothing: float = SMOOTHING) -> float:
    """Population stability index between two binned count vectors (same bins).

    Raises:
        ValueError: The vectors differ in length or are empty.
    """
    if len(reference) != len(recent) or not reference:
        raise ValueError("PSI needs two count vectors of the same, non-zero length.")
    bins = len(reference)
    reference_total = sum(reference) + smoothing * bins
    recent_total = sum(recent) + smoothing * bins
    value = 0.0
    for ref_count, recent_count in zip(reference, recent, strict=True):
        p = (ref_count + smoothing) / reference_total
        q = (recent_count + smoothing) / recent_total
        value += (q - p) * math.log(q / p)
    return value


def summarise(profile: DataProfile) -> ProfileSummary:
    """The API shape of a profile."""

    def lengths(histogram: LengthHistogram) -> LengthDistribution:
        return LengthDistribution(
            edges=list(histogram.edges), counts=list(histogram.counts), mean=histogram.mean
        )

    return ProfileSummary(
        source=profile.source,
        rows=profile.rows,
        empty_description_rate=profile.empty_description_rate,
        image_rate=profile.image_rate,
        designation_length=lengths(profile.designation_length),
        description_length=lengths(profile.description_length),
        categories=dict(profile.categories),
    )


def _length_psi(reference: LengthHistogram, recent: LengthHistogram) -> float:
    if reference.edges != recent.edges:
        raise ValueError("The recent lengths must be binned with the reference's edges.")
    return psi(reference.counts, recent.counts)


def compare_profiles(
    reference: DataProfile | None, recent: DataProfile, min_predictions: int = MIN_PREDICTIONS
) -> list[DriftStatistic]:
    """Every drift statistic of ``recent`` against ``reference`` (values ``None`` without one).

    Args:
        reference: The training-data profile (``None`` when the model has none).
        recent: The recent predictions' profile, binned like ``reference``.
        min_predictions: Fewest recent predictions for a statistic to be flagged.
    """
    enough = recent.rows >= min_predictions and recent.rows > 0

    def statistic(  # noqa: PLR0917 - one row of the table above
        name: str,
        description: str,
        method: Literal["psi", "absolute_difference"],
        value: float | None,
        threshold: float,
        reference_value: float | None,
        recent_value: float,
    ) -> DriftStatistic:
        return DriftStatistic(
            name=name,
            description=description,
            method=method,
            value=value,
            threshold=threshold,
            drifted=bool(enough and value is not None and value > threshold),
            reference_value=reference_value,
            recent_value=recent_value,
        )

    has_reference = reference is not None and reference.rows > 0
    ref = reference if has_reference else None
    return [
        statistic(
            "designation_length",
            "Length of the designation (characters): PSI over length bins; values are means.",
            "psi",
            _length_psi(ref.designation_length, recent.designation_length) if ref else None,
            PSI_THRESHOLD,
            ref.designation_length.mean if ref else None,
            recent.designation_length.mean,
        ),
        statistic(
            "description_length",
            "Length of the description (characters): PSI over length bins; values are means.",
            "psi",
            _length_psi(ref.description_length, recent.description_length) if ref else None,
            PSI_THRESHOLD,
            ref.description_length.mean if ref else None,
            recent.description_length.mean,
        ),
        statistic(
            "empty_description_rate",
            "Share of products whose description is blank: absolute difference.",
            "absolute_difference",
            abs(recent.empty_description_rate - ref.empty_description_rate) if ref else None,
            RATE_THRESHOLD,
            ref.empty_description_rate if ref else None,
            recent.empty_description_rate,
        ),
        statistic(
            "image_rate",
            "Share of products with an image: absolute difference.",
            "absolute_difference",
            abs(recent.image_rate - ref.image_rate) if ref else None,
            RATE_THRESHOLD,
            ref.image_rate if ref else None,
            recent.image_rate,
        ),
        statistic(
            "category_distribution",
            "Predicted categories (recent) against the training labels: PSI over the 27 "
            "categories; values are the share of the most frequent category.",
            "psi",
            psi(ref.category_counts(), recent.category_counts()) if ref else None,
            PSI_THRESHOLD,
            _top_share(ref) if ref else None,
            _top_share(recent),
        ),
    ]


def _top_share(profile: DataProfile) -> float:
    counts = profile.category_counts()
    total = sum(counts)
    return max(counts) / total if total else 0.0
