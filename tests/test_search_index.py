"""The lead and contact search's trigram indexes on PostgreSQL (migration 0009), and the search without them."""

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy import select
from sqlalchemy.orm import Session

from bench.bench_resolve import build
from db.migrate import alembic_config, upgrade
from db.models import Contact
from db.session import make_engine, make_sessionmaker, transaction
from tests.conftest import PG_ADMIN_URL
from tools.context import Ctx
from tools.crm import ContactIn, LeadIn, create_lead, list_contacts, list_leads, matching_contacts
from tools.paging import PageRequest
from tools.workspaces import create_organization

pytestmark = pytest.mark.postgres
TRIGRAM_INDEXES = {"ix_lead_name_trgm", "ix_contact_name_trgm", "ix_contact_email_trgm", "ix_contact_phone_trgm"}


def _plan(session: Session, ctx: Ctx, text: str) -> str:
    """PostgreSQL's plan for the contact search."""
    stmt = select(Contact.id).where(Contact.id.in_(matching_contacts(ctx, text)))
    sql = str(stmt.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}))
    return "\n".join(session.execute(sa.text(f"EXPLAIN {sql.replace('%%', '%')}")).scalars())


def _seed(factory) -> Ctx:
    with transaction(factory) as session:
        ws = create_organization(session, "Search Realty", f"s{uuid.uuid4().hex[:6]}@search.test", "Sam", "Search")
        ctx = Ctx(ws.organization_id, ws.user_id)
        create_lead(session, ctx, LeadIn(name="Acme Homes", contacts=[ContactIn(
            name="Zofia Kowalczyk", emails=[{"email": "zofia@kowal.example"}], phones=[{"phone": "+14155550199"}])]))
    return ctx


def test_a_rare_text_is_found_by_the_trigram_indexes_in_a_big_workspace(pg_url):
    engine = make_engine(pg_url)
    with engine.connect() as conn:
        names = set(conn.execute(sa.text("SELECT indexname FROM pg_indexes WHERE indexname LIKE '%_trgm'")).scalars())
    assert names == TRIGRAM_INDEXES
    ctx, made = build(pg_url, 3_000)
    with engine.connect() as conn:  # an email for each contact, as a CRM's contacts have
        conn.execute(sa.text("INSERT INTO contact_email (contact_id, email, type, position) "
                             "SELECT id, replace(lower(name), ' ', '.') || '@mail.example', 'office', 0 FROM contact"))
        conn.commit()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))  # as autovacuum would: the GIN indexes' pending rows filed
    _, last = made.people[-1]
    with make_sessionmaker(engine)() as session:
        plan = _plan(session, ctx, last)
        assert "ix_contact_name_trgm" in plan and "ix_contact_email_trgm" in plan, plan
        plan = _plan(session, ctx, "(415) 000-2999")
        assert "ix_contact_phone_trgm" in plan, plan
    engine.dispose()


@pytest.fixture
def no_extension_url() -> Iterator[str]:
    """A fresh database whose owner-less role may create tables but not extensions, migrated by that role."""
    suffix = uuid.uuid4().hex[:10]
    role, name = f"cody_plain_{suffix}", f"cody_noext_{suffix}"
    admin = make_engine(PG_ADMIN_URL, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE ROLE "{role}" LOGIN')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    owner = make_engine(f"{base}/{name}", poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    with owner.connect() as conn:
        conn.exec_driver_sql(f'GRANT USAGE, CREATE ON SCHEMA public TO "{role}"')
    owner.dispose()
    url = f"{base.replace('//postgres@', f'//{role}@', 1)}/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{role}"')
        admin.dispose()


def test_without_pg_trgm_the_migration_goes_on_and_the_search_reads_the_rows(no_extension_url, caplog):
    upgrade(no_extension_url)
    assert "pg_trgm could not be created" in caplog.text
    engine = make_engine(no_extension_url, poolclass=sa.pool.NullPool)
    factory = make_sessionmaker(engine)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM pg_indexes WHERE indexname LIKE '%_trgm'")).scalar() == 0
        head = ScriptDirectory.from_config(alembic_config(no_extension_url)).get_current_head()
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == head  # went on past 0009
    ctx = _seed(factory)
    with factory() as session:
        [contact] = list_contacts(session, ctx, PageRequest(), query="KOWAL").items
        [lead] = list_leads(session, ctx, PageRequest(), query="555-0199").items
    assert (contact.name, lead.name) == ("Zofia Kowalczyk", "Acme Homes")
    engine.dispose()
