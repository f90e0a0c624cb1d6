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
