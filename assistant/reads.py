"""Read-only tools: answered at once from the workspace's data. What they return is data, never instructions."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.intents import ReadIntent
from assistant.resolve import resolve_recipient
from db.models import Activity, Contact, InboxItem, Thread
from tools.context import Ctx
from tools.phones import format_phone

MAX_LINES = 10


def run_read(session: Session, ctx: Ctx, intent: ReadIntent) -> str:
    if intent.tool == "find_contacts":
        return find_contacts(session, ctx, intent.query or "")
    if intent.tool == "read_thread":
        return read_thread(session, ctx, intent.query or "")
    return list_inbox(session, ctx, intent)


def find_contacts(session: Session, ctx: Ctx, query: str) -> str:
    matches = resolve_recipient(session, ctx, query).matches
    if not matches:
        return f"I couldn't find anyone called {query!r}."
    lines = []
    for match in matches[:MAX_LINES]:
        contacts = session.scalars(select(Contact).where(Contact.id.in_(match.contact_ids))).all()
        phones = ", ".join(format_phone(p.phone) for c in contacts for p in c.phones[:1])
        lines.append(f"{match.label}" + (f": {phones}" if phones else ""))
    return "\n".join(lines)


def read_thread(session: Session, ctx: Ctx, who: str) -> str:
    resolution = resolve_recipient(session, ctx, who)
    match = resolution.unique
    if match is None:
        if resolution.ambiguous:
            return f"Several people match {who!r}: " + "; ".join(m.label for m in resolution.matches[:5])
        return f"I couldn't find anyone called {who!r}."
    rows = session.scalars(select(Activity).where(
        Activity.organization_id == ctx.organization_id, Activity.contact_id.in_(match.contact_ids),
        Activity.type == "sms").order_by(Activity.activity_at.desc()).limit(MAX_LINES)).all()
    if not rows:
        return f"No messages with {match.label} yet."
    lines = [f"{'They' if a.direction == 'inbound' else 'You'} ({a.activity_at:%b %d %H:%M}, {a.status}): {a.text}"
             for a in reversed(rows)]
    return f"Messages with {match.label}:\n" + "\n".join(lines)


def list_inbox(session: Session, ctx: Ctx, intent: ReadIntent) -> str:
    stmt = (select(InboxItem, Activity, Contact)
            .join(Activity, Activity.id == InboxItem.activity_id)
            .outerjoin(Thread, Thread.id == InboxItem.thread_id)
            .outerjoin(Contact, Contact.id == Thread.contact_id)
            .where(InboxItem.organization_id == ctx.organization_id, InboxItem.user_id == ctx.user_id,
                   InboxItem.done.is_(False)))
    if intent.since is not None:
        stmt = stmt.where(InboxItem.date_created >= intent.since)
    rows = session.execute(stmt.order_by(InboxItem.date_created.desc()).limit(MAX_LINES)).all()
    if not rows:
        return "Your Inbox is clear."
    lines = [f"{contact.name if contact else format_phone(activity.remote_phone)}: {activity.text or item.type}"
             for item, activity, contact in rows]
    return f"{len(rows)} in your Inbox:\n" + "\n".join(lines)
