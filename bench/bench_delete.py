"""Deleting figures: a lead (its contacts, threads, messages and inbox items go with it) and a contact (its thread
and inbox items go, its messages stay on the lead) through tools.crm, as the API's DELETE does, one transaction each.

One workspace of 2,000 contacts (bench_resolve.build: leads, contacts, phones, threads, name tokens) with three
messages a contact, spread over its threads, a third of them inbound with an inbox item. The same deletes are timed twice: while the
activity table holds only that workspace's messages (the baseline), and after OTHER_MESSAGES of other workspaces'
messages, with their inbox items, have been added (the table a shared deployment has). Finding the rows that refer
to a deleted one must not read the others: the ratio should stay near 1x.

A third figure times the same deletes on the large table with the schema taken back to migration 0004, whose
indexes began with organization_id (or did not exist) where a delete looks rows up by contact, lead, activity or
thread: what migration 0005 changed.
"""

import dataclasses
import random
import time
from datetime import timedelta

from sqlalchemy import insert, select

from bench.bench_resolve import build, fast_id
from bench.harness import Figure, percentiles_ms
from bench.live import database_kinds, settle, temp_database
from db.migrate import downgrade
from db.models import Activity, Contact, InboxItem, Thread
from db.session import make_engine, make_sessionmaker, transaction
from db.types import utcnow
from tools import crm
from tools.context import Ctx

CONTACTS = {False: 2_000, True: 300}  # by quick
OTHER_CONTACTS = {False: 1_000, True: 100}  # the other workspace whose messages fill the table
OTHER_MESSAGES = {False: 50_000, True: 3_000}
DELETES = {False: 30, True: 5}  # leads and contacts deleted at each size, by quick
BEFORE_0005_DELETES = {False: 10, True: 2}
_BATCH = 5_000
REPEATS_INSIDE = True  # python -m bench runs it once: its figures are percentiles of many deletes


def _messages(org: str, user: str, threads: list[tuple[str, str, str]], count: int, rng: random.Random) -> tuple[list, list]:
    """(activity rows, inbox item rows): `count` messages over these (thread, contact, lead), a third inbound with
    an inbox item, in the shape the messaging service writes."""
    now = utcnow()
    activities, items = [], []
    for i in range(count):
        thread_id, contact_id, lead_id = threads[i % len(threads)]
        at = now - timedelta(seconds=rng.randrange(365 * 86400))
        inbound = i % 3 == 0
        activity_id = fast_id(rng, "acti")
        activities.append({
            "id": activity_id, "organization_id": org, "type": "sms", "lead_id": lead_id, "contact_id": contact_id,
            "thread_id": thread_id, "user_id": user, "activity_at": at, "direction": "inbound" if inbound else "outbound",
            "status": "inbox" if inbound else "sent", "source": "Close.io", "text": "See you at 7", "attachments": [],
            "attempts": 0 if inbound else 1, "commitments": [], "date_created": at, "date_updated": at})
        if inbound:
            items.append({"id": fast_id(rng, "inbx"), "organization_id": org, "user_id": user, "thread_id": thread_id,
                          "activity_id": activity_id, "type": "incoming_sms", "done": False, "date_created": at,
                          "date_updated": at})
    return activities, items


def _fill(factory, ctx: Ctx, count: int, rng: random.Random) -> None:
    """Give the workspace's threads `count` messages, by core inserts."""
    with factory() as session:
        threads = session.execute(select(Thread.id, Thread.contact_id, Thread.lead_id)
                                  .where(Thread.organization_id == ctx.organization_id).order_by(Thread.id)).all()
    activities, items = _messages(ctx.organization_id, ctx.user_id, [tuple(t) for t in threads], count, rng)
    engine = factory.kw["bind"]
    with engine.begin() as conn:
        for table, rows in ((Activity.__table__, activities), (InboxItem.__table__, items)):
            for i in range(0, len(rows), _BATCH):
                conn.execute(insert(table), rows[i:i + _BATCH])
    settle(engine)


def _victims(factory, ctx: Ctx, count: int, rng: random.Random) -> tuple[list[str], list[str]]:
    """`count` leads and `count` contacts of other leads, each with a thread: what the deletes take."""
    with factory() as session:
        rows = session.execute(select(Contact.id, Contact.lead_id).join(Thread, Thread.contact_id == Contact.id)
                               .where(Contact.organization_id == ctx.organization_id).order_by(Contact.id)).all()
    rng.shuffle(rows)
    leads = list(dict.fromkeys(lead_id for _, lead_id in rows))[:count]
    taken = set(leads)
    contacts = [contact_id for contact_id, lead_id in rows if lead_id not in taken][:count]
    return leads, contacts


def _time_deletes(factory, ctx: Ctx, leads: list[str], contacts: list[str]) -> dict[str, list[float]]:
    """Seconds each delete took, its commit included, one transaction each."""
    out: dict[str, list[float]] = {"lead": [], "contact": []}
    for kind, ids, delete in (("lead", leads, crm.delete_lead), ("contact", contacts, crm.delete_contact)):
        for item_id in ids:
            start = time.perf_counter()
            with transaction(factory) as session:
                delete(session, ctx, item_id)
            out[kind].append(time.perf_counter() - start)
    return out


def _run_database(kind: str, quick: bool) -> list[Figure]:
    rng = random.Random(17)
    deletes, others, people = DELETES[quick], OTHER_MESSAGES[quick], CONTACTS[quick]
    with temp_database(kind) as url:
        member, _ = build(url, people)
        ctx = dataclasses.replace(member, role="admin")  # deleting history is an admin's (tools/crm._HISTORY)
        other_ctx, _ = build(url, OTHER_CONTACTS[quick], seed=8)
        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        try:
            _fill(factory, ctx, 3 * people, rng)
            leads, contacts = _victims(factory, ctx, 2 * deletes + BEFORE_0005_DELETES[quick], rng)
            small = _time_deletes(factory, ctx, leads[:deletes], contacts[:deletes])
            _fill(factory, other_ctx, others, rng)
            large = _time_deletes(factory, ctx, leads[deletes:2 * deletes], contacts[deletes:2 * deletes])
            engine.dispose()
            downgrade(url, "0004")
            before = _time_deletes(factory, ctx, leads[2 * deletes:], contacts[2 * deletes:])
        finally:
            engine.dispose()

    def figure(what: str, name: str, value: list[float], baseline: list[float], baseline_name: str,
               note: str) -> Figure:
        p50, p99 = percentiles_ms(value)
        return Figure(group="delete", name=f"{name} ({kind})", value=p50, unit="ms p50",
                      baseline=percentiles_ms(baseline)[0], baseline_name=baseline_name, p50_ms=p50, p99_ms=p99,
                      higher_is_better=False, note=f"{len(value)} {what}s deleted; {note}")

    table = f"{3 * people + others:,} messages in the table"
    return [
        figure("lead", "delete a lead with its contacts and messages", large["lead"], small["lead"],
               f"{3 * people:,} messages", table),
        figure("contact", "delete a contact", large["contact"], small["contact"], f"{3 * people:,} messages", table),
        figure("lead", "delete a lead, schema of migration 0004", before["lead"], large["lead"], "today's schema",
               f"{table}; contacts: p50 {percentiles_ms(before['contact'])[0]:.1f} ms against "
               f"{percentiles_ms(large['contact'])[0]:.1f}"),
    ]


def run(quick: bool, databases: list[str] | None = None) -> list[Figure]:
    figures: list[Figure] = []
    for kind in database_kinds(databases):
        figures += _run_database(kind, quick)
    return figures
