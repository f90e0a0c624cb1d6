"""E-mails unique whatever their case; one feedback per prediction.

Adds ``users.email_key`` (the address normalised and lower-cased, unique, what logins look up;
``users.email`` keeps the address as written) and a unique index on ``feedback.prediction_id``.
Both are plain column and index changes, so SQLite does not rebuild the tables (a rebuild would
fire the ``ON DELETE SET NULL`` of the rows that reference users).

Existing data: accounts whose e-mails differ only by case cannot be merged automatically, so
the upgrade stops and names them; a prediction with several feedback keeps the first one linked
and the later ones lose their ``prediction_id`` (they are kept, and logged).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

import logging
from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.core.emails import email_key

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

logger = logging.getLogger("alembic.runtime.migration")

users = sa.table(
    "users", sa.column("id", sa.Integer), sa.column("email", sa.String), sa.column("email_key")
)
feedback = sa.table("feedback", sa.column("id", sa.Integer), sa.column("prediction_id"))


def _fill_email_keys(connection: sa.Connection) -> None:
    rows = connection.execute(sa.select(users.c.id, users.c.email)).all()
    by_key: dict[str, list[str]] = defaultdict(list)
    for _, email in rows:
        by_key[email_key(email)].append(email)
    clashes = [emails for emails in by_key.values() if len(emails) > 1]
    if clashes:
        listed = "; ".join(", ".join(emails) for emails in clashes)
        raise RuntimeError(
            "These accounts have the same e-mail but for its case, and e-mails are now unique "
            f"whatever their case: {listed}. Change or deactivate all but one, then migrate."
        )
    for user_id, email in rows:
        connection.execute(
            users.update().where(users.c.id == user_id).values(email_key=email_key(email))
        )


def _unlink_extra_feedback(connection: sa.Connection) -> None:
    rows = connection.execute(
        sa.select(feedback.c.id, feedback.c.prediction_id)
        .where(feedback.c.prediction_id.is_not(None))
        .order_by(feedback.c.id)
    ).all()
    seen: set[int] = set()
    extra = []
    for feedback_id, prediction_id in rows:
        if prediction_id in seen:
            extra.append(feedback_id)
        seen.add(prediction_id)
    if extra:
        logger.warning("Feedback %s no longer cite their prediction: it had a feedback.", extra)
        connection.execute(
            feedback.update().where(feedback.c.id.in_(extra)).values(prediction_id=None)
        )


def upgrade() -> None:
    connection = op.get_bind()
    op.add_column(
        "users",
        sa.Column("email_key", sa.String(length=320), nullable=False, server_default=""),
    )
    _fill_email_keys(connection)
    op.drop_index(op.f("ix_users_email"), table_name="users")
    op.create_index(op.f("ix_users_email_key"), "users", ["email_key"], unique=True)
    _unlink_extra_feedback(connection)
    op.create_index(op.f("ix_feedback_prediction_id"), "feedback", ["prediction_id"], unique=True)


def downgrade() -> None:
    op.drop_index(op.f("ix_feedback_prediction_id"), table_name="feedback")
    op.drop_index(op.f("ix_users_email_key"), table_name="users")
    op.drop_column("users", "email_key")
    op.create_index(op.f("ix_users_email"), "users", ["email"], unique=True)
