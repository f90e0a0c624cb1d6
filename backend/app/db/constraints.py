"""Tell which unique constraint a failed write broke, on PostgreSQL and on SQLite alike.

PostgreSQL names the constraint (or unique index) in the error; SQLite names its columns
(``UNIQUE constraint failed: feedback.product_id, feedback.model_version``). Both are mapped to
the name the models give it (see :data:`app.db.base.NAMING_CONVENTION`).
"""

from functools import cache
from typing import Final

from sqlalchemy import Index, UniqueConstraint
from sqlalchemy.exc import IntegrityError

from app.db.base import Base

_POSTGRES_UNIQUE_VIOLATION: Final = "23505"
_SQLITE_UNIQUE_PREFIX: Final = "UNIQUE constraint failed: "


@cache
def _names_by_sqlite_columns() -> dict[str, str]:
    """``"table.column, table.column"`` → constraint or unique index name, from the models."""
    names: dict[str, str] = {}
    for table in Base.metadata.tables.values():
        uniques: list[UniqueConstraint | Index] = [
            item for item in table.constraints if isinstance(item, UniqueConstraint)
        ]
        uniques += [index for index in table.indexes if index.unique]
        for unique in uniques:
            columns = ", ".join(f"{table.name}.{column.name}" for column in unique.columns)
            names[columns] = str(unique.name)
    return names


def violated_unique_constraint(error: IntegrityError) -> str | None:
    """The name of the unique constraint or index a write broke, or ``None`` for other faults.

    Args:
        error: What SQLAlchemy raised on flush or commit.

    Returns:
        The constraint's name as in the models (e.g. ``ix_users_email_key``), or ``None`` when
        the error is not a unique violation (not null, foreign key...) or names no known one.
    """
    original = error.orig
    diag = getattr(original, "diag", None)
    if diag is not None:  # psycopg2
        if getattr(original, "pgcode", None) != _POSTGRES_UNIQUE_VIOLATION:
            return None
        name = diag.constraint_name
        return str(name) if name else None
    message = str(original)
    if not message.startswith(_SQLITE_UNIQUE_PREFIX):
        return None
    return _names_by_sqlite_columns().get(message.removeprefix(_SQLITE_UNIQUE_PREFIX))
