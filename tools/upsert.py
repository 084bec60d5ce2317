"""INSERT ... ON CONFLICT DO NOTHING on SQLite and PostgreSQL alike."""

from functools import lru_cache
from typing import Any

from sqlalchemy import Insert, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignore(session: Session, model: type, values: dict[str, Any], conflict: list[str]) -> bool:
    """Insert a row unless one with the same conflict columns exists; True when inserted.

    RETURNING tells what happened on both databases (psycopg reports no rowcount here). The statement is built
    once per dialect, table, columns and conflict target, and the values are passed as parameters: building and
    caching a new statement object on every call cost more than running it.
    """
    return insert_ignore_many(session, model, [values], conflict) == 1


def insert_ignore_many(session: Session, model: type, rows: list[dict[str, Any]], conflict: list[str]) -> int:
    """insert_ignore for several rows of the same columns in one round trip (SQLAlchemy's insertmanyvalues); how
    many were inserted."""
    if not rows:
        return 0
    stmt = _statement(session.get_bind().dialect.name, model, tuple(rows[0]), tuple(conflict))
    if session.autoflush:
        session.flush()
    return len(session.execute(stmt, rows[0] if len(rows) == 1 else rows).all())


@lru_cache(maxsize=256)
def _statement(dialect_name: str, model: type, columns: tuple[str, ...], conflict: tuple[str, ...]) -> Insert:
    # On the table, not the mapped class: a Core INSERT, without the ORM's bulk-insert machinery around it (the
    # columns' Python-side defaults still apply; every model here names its attributes as its columns).
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    table = inspect(model).local_table
    key = table.primary_key.columns[0]
    return dialect.insert(table).on_conflict_do_nothing(index_elements=list(conflict)).returning(key)
