"""Shapes of the monitoring answers: live quality, frequent errors and data drift."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DriftStatus = Literal["ok", "drift", "insufficient_data", "no_reference"]


class _Model(BaseModel):
    model_config = ConfigDict(protected_namespaces=())


class TimeWindow(_Model):
    """The period a figure covers: ``start <= time < end`` (UTC)."""

    start: datetime
    end: datetime


class VersionQuality(_Model):
    """How one model version did according to the feedback received in the window."""

    model_version: str
    feedback_count: int
    correct: int = Field(description="Feedback whose predicted category was the seller's.")
    accuracy: float
    weighted_f1: float


class QualityReport(_Model):
    """Accuracy and weighted F1 per model version, from the feedback of a time window."""

    window: TimeWindow
    versions: list[VersionQuality]


class ErrorPair(_Model):
    """A (predicted, real) category pair that the feedback shows was wrong ``count`` times."""

    predicted_category_id: int
    predicted_category: str
    real_category_id: int
    real_category: str
    count: int
    share_of_errors: float = Field(description="count / wrong feedback in the window.")


class ErrorsReport(_Model):
    """The most frequent wrong (predicted, real) pairs of a time window."""

    window: TimeWindow
    model_version: str | None = Field(description="The version looked at (None: all).")
    feedback_count: int
    wrong_count: int
    pairs: list[ErrorPair]


class PredictionVolume(_Model):
    """Products predicted by one model version in the window."""

    model_name: str
    model_version: str
    count: int


class LengthDistribution(_Model):
    """Text lengths in bins: ``counts[i]`` texts of ``edges[i]`` to ``edges[i+1]`` characters."""

    edges: list[int]
    counts: list[int]
    mean: float


class ProfileSummary(_Model):
    """What a set of products looks like (training rows, or recent predictions)."""

    source: str
    rows: int
    empty_description_rate: float
    image_rate: float
    designation_length: LengthDistribution
    description_length: LengthDistribution
    categories: dict[int, int] = Field(
        description="Products per category code: real for training rows, predicted for recent."
    )


class DriftStatistic(_Model):
    """One drift statistic, its threshold and whether it is past it."""

    name: str
    description: str
    method: Literal["psi", "absolute_difference"]
    value: float | None = Field(description="None when there is no reference to compare with.")
    threshold: float
    drifted: bool = Field(
        description="value > threshold, with a reference and at least min_predictions."
    )
    reference_value: float | None = Field(
        default=None, description="The reference rate or mean (for rates and lengths)."
    )
    recent_value: float | None = None


class DriftReport(_Model):
    """Recent predictions of a model version compared with the data it was trained on."""

    window: TimeWindow
    model_name: str
    model_version: str
    status: DriftStatus
    drift_detected: bool
    message: str
    min_predictions: int
    reference_source: str = Field(description="Where the training-data profile comes from.")
    reference: ProfileSummary | None
    recent: ProfileSummary
    statistics: list[DriftStatistic]


class MonitoringReport(_Model):
    """Everything the monitoring computes, for one model version and one time window."""

    generated_at: datetime
    window: TimeWindow
    quality: QualityReport
    errors: ErrorsReport
    volume: list[PredictionVolume]
    drift: DriftReport


class QualityTimeline(_Model):
    """Accuracy and weighted F1 per model version in consecutive slices of a time window."""

    window: TimeWindow
    slices: list[QualityReport] = Field(description="Oldest first; each over its own window.")


class ScoreDifference(_Model):
    """Challenger minus champion, with its 95% paired bootstrap interval."""

    value: float
    low: float
    high: float


class ChallengerComparison(_Model):
    """One champion version against the challenger version that shadowed it."""

    champion_version: str
    challenger_version: str
    shadowed: int = Field(description="Champion predictions with a challenger prediction.")
    agreed: int = Field(description="Of those, predictions whose top category is the same.")
    agreement_rate: float | None = Field(description="agreed / shadowed (None without rows).")
    labelled: int = Field(
        description="Shadowed predictions whose feedback names a known category: the rows "
        "behind the accuracy and F1 figures."
    )
    champion_accuracy: float | None
    challenger_accuracy: float | None
    champion_weighted_f1: float | None
    challenger_weighted_f1: float | None
    accuracy_difference: ScoreDifference | None
    weighted_f1_difference: ScoreDifference | None


class ChallengerReport(_Model):
    """The champion and its challenger on the same predictions of a time window."""

    window: TimeWindow
    model_name: str
    champion_alias: str
    challenger_alias: str | None = Field(description="None: MODEL_CHALLENGER_ALIAS is empty.")
    champion_version: str | None = Field(description="The version served now.")
    challenger_version: str | None = Field(description="The version shadowing now.")
    comparisons: list[ChallengerComparison] = Field(
        description="One per (champion, challenger) version pair seen in the window."
    )
