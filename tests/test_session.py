"""The engines Cody opens: what each database connection is set up with."""

import pytest
from sqlalchemy import text

from db.session import make_engine, make_sessionmaker


@pytest.mark.postgres
def test_postgres_connections_price_random_reads_for_cached_data(pg_url):
    engine = make_engine(pg_url)
    factory = make_sessionmaker(engine)
    with factory() as session:
        assert session.scalar(text("SHOW random_page_cost")) == "1.1"
        session.rollback()  # a session-level setting: a rolled-back transaction keeps it
        assert session.scalar(text("SHOW random_page_cost")) == "1.1"
    engine.dispose()


def test_sqlite_connections_use_wal_and_foreign_keys(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'cody.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()
