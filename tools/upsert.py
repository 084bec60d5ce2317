"""INSERT ... ON CONFLICT DO NOTHING on SQLite and PostgreSQL alike."""

from typing import Any

from sqlalchemy import inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignore(session: Session, model: type, values: dict[str, Any], conflict: list[str]) -> bool:
    """Insert a row unless one with the same conflict columns exists; True when inserted.

    RETURNING tells what happened on both databases (psycopg reports no rowcount here).
    """
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    key = inspect(model).primary_key[0]
    stmt = dialect.insert(model).values(**values).on_conflict_do_nothing(index_elements=conflict).returning(key)
    return session.execute(stmt).first() is not None
