"""Shapes of predictions: what the caller sends, what the API returns, what it stored."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.bounds import ProductIdText


class PredictionResult(BaseModel):
    """The probability, in percent, that the product belongs to a category."""

    category_id: int = Field(description="Rakuten category code (prdtypecode).")
    probabilities: float = Field(description="Probability in percent (all 27 sum to 100).")


class BatchProduct(BaseModel):
    """One product of a batch: its texts and an optional base64-encoded colour JPEG."""

    model_config = ConfigDict(extra="forbid")

    product_id: ProductIdText | None = None
    designation: str = ""
    description: str = ""
    image: str | None = Field(
        default=None,
        description="A colour JPEG encoded in base64 (standard alphabet); empty or null: no "
        "image (as an empty text is no text).",
    )


class BatchPredictionResult(BaseModel):
    """The prediction of one product of a batch, in the order of the request."""

    product_id: str | None
    prediction_id: int
    categories: list[PredictionResult]


class StoredPrediction(BaseModel):
    """A prediction as stored: who asked, with which model, what was sent and answered."""

    model_config = ConfigDict(from_attributes=True, protected_namespaces=())

    id: int
    created_at: datetime
    user_id: int | None
    model_name: str
    model_version: str
    product_id: str | None
    designation: str
    description: str
    image_sha256: str | None
    image_size_bytes: int | None
    image_width: int | None
    image_height: int | None
    results: list[PredictionResult]
    latency_ms: float
