"""The lead and contact search's FTS5 index on SQLite (migration 0011): used by the search, filled by the migration
from the rows already there, and kept by triggers whoever writes (tests/api/test_search.py follows the services'
writes over HTTP)."""

import sqlalchemy as sa
from sqlalchemy import select

from bench.bench_resolve import build
from db.migrate import downgrade, upgrade
from db.models import Contact
from db.session import make_engine, make_sessionmaker, transaction
from tools.context import Ctx
from tools.crm import ContactIn, LeadIn, create_lead, list_contacts, list_leads
from tools.paging import PageRequest
from tools.search_index import fts_contacts, fts_ready
from tools.workspaces import create_organization


def _found(factory, ctx: Ctx, query: str) -> tuple[list[str], list[str]]:
    with factory() as session:
        contacts = [c.name for c in list_contacts(session, ctx, PageRequest(), query=query).items]
        leads = [lead.name for lead in list_leads(session, ctx, PageRequest(), query=query).items]
    return contacts, leads


def test_the_contact_search_reads_the_index(tmp_path):
    url = f"sqlite:///{tmp_path}/cody.db"
    upgrade(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        assert fts_ready(session)
        stmt = select(Contact.id).where(Contact.id.in_(fts_contacts("kowal")))
        sql = str(stmt.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
        plan = " ".join(row[-1] for row in session.execute(sa.text(f"EXPLAIN QUERY PLAN {sql}")))
    assert "VIRTUAL TABLE INDEX" in plan and "contact_fts" in plan, plan
    engine.dispose()


def test_the_migration_indexes_the_leads_and_contacts_already_there(tmp_path):
    url = f"sqlite:///{tmp_path}/cody.db"
    upgrade(url, "0010")
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    with transaction(factory) as session:
        ws = create_organization(session, "Search Realty", "sam@search.test", "Sam", "Search")
        ctx = Ctx(ws.organization_id, ws.user_id)
        create_lead(session, ctx, LeadIn(name="Acme Homes", contacts=[ContactIn(
            name="Zofia Kowalczyk", emails=[{"email": "zofia@kowal.example"}], phones=[{"phone": "+14155550199"}])]))
    engine.dispose()
    upgrade(url)
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    for query in ("KOWAL", "kowal.example", "555-0199"):
        assert _found(factory, ctx, query) == (["Zofia Kowalczyk"], ["Acme Homes"]), query
    assert _found(factory, ctx, "Homes") == ([], ["Acme Homes"])
    engine.dispose()
    downgrade(url, "0010")
    engine = make_engine(url)
    with engine.connect() as conn:
        left = conn.execute(sa.text("SELECT name FROM sqlite_master WHERE name LIKE '%fts%' OR name LIKE "
                                    "'%search_row%'")).scalars().all()
    assert left == []
    assert _found(make_sessionmaker(engine), ctx, "KOWAL") == (["Zofia Kowalczyk"], ["Acme Homes"])  # by reading
    engine.dispose()


def test_rows_written_without_the_services_are_indexed_too(tmp_path):
    """bench_resolve builds its workspace with bulk Core inserts: the triggers index those rows as they come."""
    url = f"sqlite:///{tmp_path}/cody.db"
    upgrade(url)
    ctx, made = build(url, 300)
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    first, last = made.people[-1]
    contacts, _ = _found(factory, ctx, f"{first} {last}")
    assert f"{first} {last}" in contacts
    with factory() as session:
        indexed = session.scalar(sa.text("SELECT count(*) FROM contact_search_row"))
        assert indexed == session.scalar(select(sa.func.count()).select_from(Contact))
    engine.dispose()
