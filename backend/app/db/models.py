"""ORM models: users, stored predictions, their shadow predictions and the feedback sent back."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base
from app.db.types import UTCDateTime

__all__ = ["Base", "Feedback", "Prediction", "ShadowPrediction", "User"]


def utc_now() -> datetime:
    """Return the current time, timezone-aware (UTC)."""
    return datetime.now(UTC)


class User(Base):
    """Somebody allowed to call the API."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    """The e-mail as the user wrote it (domain in lower case), shown and used to write."""
    email_key: Mapped[str] = mapped_column(String(320), unique=True, index=True)
    """:func:`app.core.emails.email_key` of ``email``: unique, and what logins look up."""
    hashed_password: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str | None] = mapped_column(String(255), default=None)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


class Prediction(Base):
    """One product predicted by the API: who asked, what was sent, what was answered."""

    __tablename__ = "predictions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now, index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    model_name: Mapped[str] = mapped_column(String(255))
    model_version: Mapped[str] = mapped_column(String(64), index=True)
    product_id: Mapped[str | None] = mapped_column(String(64), default=None)
    designation: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    image_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    image_size_bytes: Mapped[int | None] = mapped_column(Integer, default=None)
    image_width: Mapped[int | None] = mapped_column(Integer, default=None)
    image_height: Mapped[int | None] = mapped_column(Integer, default=None)
    results: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    """The categories and probabilities returned to the caller, in the order returned."""
    latency_ms: Mapped[float] = mapped_column(Float)
    """Time spent in the model call, in milliseconds (shared by every product of a batch)."""


class Feedback(Base):
    """The category a seller finally chose for a product we predicted."""

    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("product_id", "model_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    product_id: Mapped[int] = mapped_column(BigInteger)
    model_version: Mapped[str] = mapped_column(String(64), index=True)
    real_category_id: Mapped[int] = mapped_column(Integer)
    pred_category_id: Mapped[int] = mapped_column(Integer)
    prediction_id: Mapped[int | None] = mapped_column(
        ForeignKey("predictions.id", ondelete="SET NULL"), default=None, unique=True, index=True
    )
    """The prediction the feedback is about: one feedback per prediction."""
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )


class ShadowPrediction(Base):
    """What the challenger version answered for a prediction the champion served (not returned)."""

    __tablename__ = "shadow_predictions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    prediction_id: Mapped[int] = mapped_column(
        ForeignKey("predictions.id", ondelete="CASCADE"), unique=True, index=True
    )
    """The champion's prediction of the same product: one shadow per prediction."""
    model_name: Mapped[str] = mapped_column(String(255))
    model_version: Mapped[str] = mapped_column(String(64), index=True)
    results: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    """All 27 categories and probabilities (percent) of the challenger, most probable first."""
    latency_ms: Mapped[float] = mapped_column(Float)
    """Time spent in the challenger's model call (shared by the products of a batch)."""
