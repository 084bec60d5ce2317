"""Alembic environment: runs migrations on the URL given by db.migrate."""

from alembic import context
from sqlalchemy import Connection, pool

import db.models  # noqa: F401  (registers every table on Base.metadata)
from db.base import Base
from db.session import make_engine

config = context.config


def run_migrations_online() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _foreign_keys_off(connection)
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=sqlite,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                _check_foreign_keys(connection)
    engine.dispose()


def _foreign_keys_off(connection: Connection) -> None:
    """SQLite changes a table by copying it into a new one and dropping the old (batch mode); with foreign keys on,
    dropping the old one would delete or clear every row that refers to it. The switch works only outside a
    transaction, so it goes straight to the driver before Alembic begins one. The connection is not pooled."""
    connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")


def _check_foreign_keys(connection: Connection) -> None:
    """What SQLite would have enforced while the switch was off: every reference still finds its row."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        raise RuntimeError(f"the migration left {len(broken)} rows referring to rows that do not exist: {broken[:5]}")


run_migrations_online()
