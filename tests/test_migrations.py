"""The schema comes from Alembic alone, and it matches the models."""

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from db.base import Base
from db.migrate import downgrade, upgrade
from db.models.crm import SHARED_NAME
from db.session import make_engine, make_sessionmaker, transaction
from tools.context import Ctx
from tools.crm import ContactIn, LeadIn, create_lead
from tools.demo import DEMO_NUMBER, seed_demo
from tools.messaging.inbound import receive_sms
from tools.search_index import SEARCH_TABLES
from tools.workspaces import create_organization


def _declared(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Whether the models declare it: the search's trigram indexes (named *_trgm) are PostgreSQL's alone, made by
    migration 0009 only where pg_trgm can be created, and its FTS5 tables SQLite's alone (0011), so no model declares
    them (test_search_index.py checks them)."""
    name = name or ""
    if type_ == "table":
        return not any(name == t or name.startswith(f"{t}_") for t in SEARCH_TABLES)
    return not (type_ == "index" and reflected and compare_to is None and name.endswith("_trgm"))


def _diff(url: str) -> list:
    engine = make_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": _declared})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    return diff


def _tables(url: str) -> set[str]:
    engine = make_engine(url, poolclass=sa.pool.NullPool)
    names = set(sa.inspect(engine).get_table_names())
    engine.dispose()
    return names


def test_migrations_match_models(any_db_url):
    assert _diff(any_db_url) == []


def test_migrations_create_every_table(any_db_url):
    assert {t.name for t in Base.metadata.sorted_tables} <= _tables(any_db_url)


def test_downgrade_to_base_and_back_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'roundtrip.db'}"
    upgrade(url)
    downgrade(url, "base")
    assert _tables(url) == {"alembic_version"}
    upgrade(url)
    assert _diff(url) == []


@pytest.mark.postgres
def test_partial_unique_index_on_active_numbers_exists_on_postgres(pg_url):
    engine = make_engine(pg_url, poolclass=sa.pool.NullPool)
    indexes = {ix["name"]: ix for ix in sa.inspect(engine).get_indexes("phone_number")}
    engine.dispose()
    assert indexes["uq_phone_number_active"]["unique"]


def test_name_token_contact_index_holds_only_contacts_rows(any_db_url):
    engine = make_engine(any_db_url, poolclass=sa.pool.NullPool)
    indexes = {ix["name"]: ix for ix in sa.inspect(engine).get_indexes("name_token")}
    engine.dispose()
    where = next(str(v) for k, v in indexes["ix_name_token_contact_id"]["dialect_options"].items() if k.endswith("_where"))
    assert "contact_id IS NOT NULL" in where


def _refilled(tmp_path, lead: LeadIn, revision: str, query: str) -> list:
    """The rows `query` reads after a lead was indexed, the schema taken back to `revision` and upgraded again: what
    a later migration fills from the names a database made before it already holds."""
    url = f"sqlite:///{tmp_path / 'refilled.db'}"
    upgrade(url)
    engine = make_engine(url, poolclass=sa.pool.NullPool)
    with transaction(make_sessionmaker(engine)) as session:
        workspace = create_organization(session, "Acme Realty", "ann@acme.test", "Ann", "Acme")
        create_lead(session, Ctx(organization_id=workspace.organization_id, user_id=workspace.user_id), lead)
    downgrade(url, revision)
    upgrade(url)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(query).all()
    engine.dispose()
    return rows


def test_name_word_is_filled_from_the_names_already_indexed(tmp_path):
    rows = _refilled(tmp_path, LeadIn(name="The Smiths", contacts=[ContactIn(name="Jane Smith")]), "0002",
                     "SELECT word FROM name_word ORDER BY word")
    assert [word for word, in rows] == ["jane", "smith", "smiths"]


def test_name_word_key_is_filled_from_the_words_already_known(tmp_path):
    rows = _refilled(tmp_path, LeadIn(name="Jo Ng", contacts=[ContactIn(name="Jane Smith")]), "0003",
                     "SELECT key, word FROM name_word_key ORDER BY word, key")
    assert rows == [("ane", "jane"), ("jae", "jane"), ("jan", "jane"), ("jne", "jane"),
                    ("mith", "smith"), ("sith", "smith"), ("smih", "smith"), ("smit", "smith"), ("smth", "smith")]


def test_households_are_filled_from_the_names_already_indexed(tmp_path):
    people = [ContactIn(name=name) for name in ("Ann James", "Bob James", "Cy Lee", "Di Lee Park", "Ed Park")]
    rows = _refilled(tmp_path, LeadIn(name="Acme Corp", contacts=people), "0013",
                     f"SELECT token FROM name_token WHERE position = {SHARED_NAME} ORDER BY token")
    assert [token for token, in rows] == ["james", "lee", "park"]


def _leading_columns(inspector: sa.Inspector, table: str) -> set[str]:
    """The first column of each index, unique constraint and primary key of the table."""
    keys = [ix["column_names"] for ix in inspector.get_indexes(table)]
    keys += [uq["column_names"] for uq in inspector.get_unique_constraints(table)]
    keys.append(inspector.get_pk_constraint(table)["constrained_columns"])
    return {columns[0] for columns in keys if columns}


# What Cody deletes: leads, contacts and messages (an activity), and with a contact its thread. Users and workspaces
# are never deleted.
DELETED = ("lead", "contact", "activity", "thread")


def test_every_row_that_refers_to_a_deleted_one_is_found_by_an_index(any_db_url):
    """Deleting a contact, a lead, a message or a thread finds the rows that refer to it by the foreign key's column:
    without an index beginning with it, the database reads the whole table, every workspace's rows, for each one."""
    engine = make_engine(any_db_url, poolclass=sa.pool.NullPool)
    inspector = sa.inspect(engine)
    referring = [(table, fk["constrained_columns"][0]) for table in inspector.get_table_names()
                 for fk in inspector.get_foreign_keys(table) if fk["referred_table"] in DELETED]
    unindexed = [f"{table}.{column}" for table, column in referring
                 if column not in _leading_columns(inspector, table)]
    engine.dispose()
    assert len(referring) >= 11  # contact, activity, name_token and thread by lead; five by contact; inbox items
    assert unindexed == []


def test_upgrading_a_database_keeps_the_threads_and_inbox_items_it_holds(tmp_path):
    """SQLite rebuilds a changed table by copying it and dropping the old one; the rows that refer to it (a thread's
    inbox items, its contact's messages) stay as they were."""
    url = f"sqlite:///{tmp_path / 'kept.db'}"
    upgrade(url)
    engine = make_engine(url, poolclass=sa.pool.NullPool)
    with transaction(make_sessionmaker(engine)) as session:
        seed_demo(session)
    with make_sessionmaker(engine)() as session:
        assert receive_sms(session, {"MessageSid": "SM" + "1" * 32, "From": "+14155550132", "To": DEMO_NUMBER,
                                     "Body": "See you at 7"}) is not None
    query = ("SELECT t.contact_id, i.type, a.text FROM inbox_item i JOIN thread t ON t.id = i.thread_id "
             "JOIN activity a ON a.id = i.activity_id AND a.contact_id = t.contact_id")
    with engine.connect() as conn:
        before = conn.exec_driver_sql(query).all()
    downgrade(url, "0004")
    upgrade(url)
    with engine.connect() as conn:
        after = conn.exec_driver_sql(query).all()
    engine.dispose()
    assert len(before) == 1 and before[0][1:] == ("incoming_sms", "See you at 7")
    assert after == before
