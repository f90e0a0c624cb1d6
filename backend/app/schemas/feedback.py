"""Shapes of the feedback a marketplace sends once the seller chose a category."""

from pydantic import BaseModel, ConfigDict, Field, field_validator

from product_classifier.categories import is_category_code


class FeedbackCreate(BaseModel):
    """The category the seller chose (``real``) beside the one we predicted (``pred``)."""

    model_config = ConfigDict(protected_namespaces=())

    product_id: int = Field(ge=0)
    model_version: str | None = Field(
        default=None,
        max_length=64,
        description="Version that made the prediction (the X-Model-Version header). "
        "Defaults to the version of `prediction_id`, else to the version being served.",
    )
    real_category_id: int
    pred_category_id: int
    prediction_id: int | None = Field(
        default=None, description="The X-Prediction-Id header of the prediction, if known."
    )

    @field_validator("real_category_id", "pred_category_id")
    @classmethod
    def _known_category(cls, value: int) -> int:
        if not is_category_code(value):
            raise ValueError(f"{value} is not a Rakuten category code")
        return value


class Feedback(BaseModel):
    """A stored feedback."""

    model_config = ConfigDict(from_attributes=True, protected_namespaces=())

    id: int
    product_id: int
    model_version: str
    real_category_id: int
    pred_category_id: int
    prediction_id: int | None = None


class FeedbackStats(BaseModel):
    """How well one model version did, according to the feedback received."""

    model_config = ConfigDict(protected_namespaces=())

    model_version: str
    count: int
    accuracy: float = Field(description="Share of feedback where the prediction was right.")
    weighted_f1: float = Field(description="F1 score averaged over categories, by support.")
