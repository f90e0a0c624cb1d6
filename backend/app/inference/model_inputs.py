"""What the served model reads, so that a product it cannot read gets a 400, not a made-up answer.

A text model given no text, or an image model no image, would answer 100/27 % for every
category; stored, such an answer would look like a prediction, take feedback and enter the
quality figures. The predict routes refuse such a product as they refuse one with nothing at
all, and the catalogue scoring and the challenger evaluation refuse the same rows
(:func:`product_classifier.scoring.rows.missing_input`).
"""

from dataclasses import dataclass

from app.inference.images import decode_side
from app.inference.model_server import ServedModel
from app.inference.predictions import ProductRequest


@dataclass(frozen=True, slots=True)
class ModelInputs:
    """What a served model reads.

    Attributes:
        model: The model's label for messages (``text@production (version 3)``).
        min_side: Smallest picture side worth decoding for it (``None``: full size).
        reads_text: Whether it reads ``designation`` and ``description``.
        reads_image: Whether it reads the image.
    """

    model: str
    min_side: int | None
    reads_text: bool = True
    reads_image: bool = True

    @classmethod
    def of(cls, served: ServedModel) -> "ModelInputs":
        """Read from the predictor's ``config`` (a model logged otherwise reads both)."""
        config = getattr(served.predictor, "config", None)
        reads_text = getattr(config, "reads_text", True)
        reads_image = getattr(config, "reads_image", True)
        return cls(
            served.label,
            decode_side(served.predictor),
            reads_text if isinstance(reads_text, bool) else True,
            reads_image if isinstance(reads_image, bool) else True,
        )

    def missing(self, request: ProductRequest) -> str | None:
        """Why the model cannot read ``request`` (a sentence), or ``None`` when it can."""
        has_text = bool(request.designation.strip() or request.description.strip())
        if not self.reads_image and not has_text:
            return (
                f"The served model, {self.model}, reads only designation and description, "
                "and this product has neither: send its title or description."
            )
        if not self.reads_text and request.image is None:
            return (
                f"The served model, {self.model}, reads only the image, and this product has "
                "none: send its image."
            )
        return None
