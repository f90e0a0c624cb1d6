"""Predict products with the served model in one call, and store every prediction."""

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.db.crud.predictions import add_predictions
from app.db.models import Prediction
from app.serving.images import DecodedImage
from app.serving.model_server import ServedModel
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


def predict_and_store(
    session: Session,
    served: ServedModel,
    products: Sequence[ProductRequest],
    *,
    user_id: int | None,
    limit: int | None,
) -> list[Prediction]:
    """Predict ``products`` in one model call and add them to the session (flushed, not committed).

    Args:
        session: The request's unit of work (it commits).
        served: The model version to use for the whole call.
        products: The products, in the caller's order.
        user_id: Who asked.
        limit: Keep only the ``limit`` most probable categories (all 27 when ``None``).

    Returns:
        The stored predictions, in the order of ``products``; ``results`` is exactly what
        the caller receives.
    """
    with inference_span(served.name, served.version, served.alias, len(products)) as record:
        started = time.perf_counter()
        outputs = served.predict([product.to_model_input() for product in products])
        latency_ms = (time.perf_counter() - started) * 1000.0
        record(outputs)
    rows = [
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
            latency_ms=latency_ms,
        )
        for product, output in zip(products, outputs, strict=True)
    ]
    with db_write_span(session, "predictions", len(rows)):
        add_predictions(session, rows)
    record_predictions(served.name, served.version, (row.results[0]["category_id"] for row in rows))
    return rows
