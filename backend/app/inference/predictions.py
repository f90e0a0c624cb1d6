"""Predict products with the served model, and store every prediction.

:func:`call_model` runs the model call; :func:`prediction_rows` makes the rows to store and
:func:`save_predictions` adds them (one request's, or a batch of requests') to the session in one
flush.
"""

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.db.crud.predictions import add_predictions
from app.db.models import Prediction
from app.inference.images import DecodedImage
from app.inference.model_server import ServedModel
from app.telemetry.metrics import record_predictions
from app.telemetry.tracing import db_write_span, inference_span
from product_classifier.serving.contract import Prediction as ModelOutput
from product_classifier.serving.contract import ProductInput


@dataclass(frozen=True, slots=True)
class ProductRequest:
    """One product as the caller sent it, its image already checked and decoded."""

    designation: str = ""
    description: str = ""
    image: DecodedImage | None = None
    product_id: str | None = None

    @property
    def is_empty(self) -> bool:
        """Whether there is neither text nor image to predict from."""
        return self.image is None and not (self.designation.strip() or self.description.strip())

    def to_model_input(self) -> ProductInput:
        """The product as the model reads it."""
        return ProductInput(
            designation=self.designation,
            description=self.description,
            image=self.image.image if self.image else None,
        )


def plain_results(output: ModelOutput, limit: int | None = None) -> list[dict[str, Any]]:
    """One product's categories as stored and returned: plain ints and floats, cut to ``limit``."""
    return [
        {"category_id": int(entry["category_id"]), "probabilities": float(entry["probabilities"])}
        for entry in output[:limit]
    ]


@dataclass(frozen=True, slots=True)
class ModelAnswer:
    """The model's outputs for a request's products, and how long its call took."""

    outputs: list[ModelOutput]
    latency_ms: float
    """Duration of the model call (shared with the other requests of a gathered call)."""


def call_model(served: ServedModel, products: Sequence[ProductRequest]) -> ModelAnswer:
    """Predict ``products`` with ``served`` in this thread (blocking), timed and traced.

    Args:
        served: The model version to use for every product.
        products: The request's products, in order.

    Returns:
        One output (the 27 categories, most probable first) per product, in order.

    Raises:
        ModelLoadError: the model answered something other than the output contract.
    """
    inputs = [product.to_model_input() for product in products]
    with inference_span(served.name, served.version, served.alias, len(inputs)) as record:
        started = time.perf_counter()
        outputs = served.predict(inputs)
        answer = ModelAnswer(outputs, (time.perf_counter() - started) * 1000.0)
        record(answer.outputs)
    return answer


def prediction_rows(
    served: ServedModel,
    products: Sequence[ProductRequest],
    answer: ModelAnswer,
    *,
    user_id: int | None,
    limit: int | None,
) -> list[Prediction]:
    """The predictions of ``products`` to store (not added to any session yet).

    Args:
        served: The model version that answered.
        products: The products, in the caller's order.
        answer: The model's outputs for ``products``, in the same order.
        user_id: Who asked.
        limit: Keep only the ``limit`` most probable categories (all 27 when ``None``).

    Returns:
        One row per product, in order; ``results`` is exactly what the caller receives.
    """
    return [
        Prediction(
            user_id=user_id,
            model_name=served.name,
            model_version=served.version,
            product_id=product.product_id,
            designation=product.designation,
            description=product.description,
            image_sha256=product.image.sha256 if product.image else None,
            image_size_bytes=product.image.size_bytes if product.image else None,
            image_width=product.image.width if product.image else None,
            image_height=product.image.height if product.image else None,
            results=plain_results(output, limit),
            latency_ms=answer.latency_ms,
        )
        for product, output in zip(products, answer.outputs, strict=True)
    ]


def save_predictions(session: Session, served: ServedModel, rows: list[Prediction]) -> None:
    """Add ``rows`` (answered by ``served``) to the session in one flush, filling their ids."""
    with db_write_span(session, "predictions", len(rows)):
        add_predictions(session, rows)
    record_predictions(served.name, served.version, (row.results[0]["category_id"] for row in rows))
