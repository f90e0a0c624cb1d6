"""Create the shadow_predictions table: the challenger's answer to each served prediction.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shadow_predictions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prediction_id", sa.Integer(), nullable=False),
        sa.Column("model_name", sa.String(length=255), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("results", sa.JSON(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["prediction_id"],
            ["predictions.id"],
            name=op.f("fk_shadow_predictions_prediction_id_predictions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shadow_predictions")),
    )
    op.create_index(
        op.f("ix_shadow_predictions_prediction_id"),
        "shadow_predictions",
        ["prediction_id"],
        unique=True,
    )
    op.create_index(
        op.f("ix_shadow_predictions_model_version"), "shadow_predictions", ["model_version"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_shadow_predictions_model_version"), table_name="shadow_predictions")
    op.drop_index(op.f("ix_shadow_predictions_prediction_id"), table_name="shadow_predictions")
    op.drop_table("shadow_predictions")
