"""Shapes of the feedback a marketplace sends once the seller chose a category."""

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.schemas.bounds import MODEL_VERSION_PATTERN, ProductId, RowId
from product_classifier.categories import CATEGORY_CODES, is_category_code


def _known_category(value: int) -> int:
    if not is_category_code(value):
        raise ValueError(f"{value} is not a Rakuten category code")
    return value


CategoryCode = Annotated[
    int,
    AfterValidator(_known_category),
    Field(
        description="A Rakuten category code (prdtypecode).",
        json_schema_extra={"enum": list(CATEGORY_CODES)},
    ),
]


class FeedbackCreate(BaseModel):
    """The category the seller chose (``real``) beside the one we predicted (``pred``).

    Read strictly: integers must be JSON integers (``true``, ``1.0`` or ``"42"`` are a 422, not
    quietly read as 1 or 42) and a field this shape does not have is a 422 (a misspelt
    ``prediction_id`` would otherwise drop the link to the prediction and its checks).
    """

    model_config = ConfigDict(protected_namespaces=(), strict=True, extra="forbid")

    product_id: ProductId | None = Field(
        default=None,
        description="The marketplace's product id. With `prediction_id`, the prediction's "
        "(the default; another one is refused), required if the prediction was made without "
        "one; required without `prediction_id`.",
    )
    model_version: str | None = Field(
        default=None,
        pattern=MODEL_VERSION_PATTERN,
        description="Version that made the prediction (the X-Model-Version header). With "
        "`prediction_id`, the prediction's version (another one is refused); without, a "
        "registered version of the served model (default: the version being served).",
    )
    real_category_id: CategoryCode
    pred_category_id: CategoryCode | None = Field(
        default=None,
        description="The category we predicted. With `prediction_id`, the prediction's most "
        "probable category (the default; another one is refused); required without.",
    )
    prediction_id: RowId | None = Field(
        default=None,
        description="The X-Prediction-Id header of the prediction, if known (one feedback per "
        "prediction).",
    )


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
