"""Read-only tools: answered at once from the workspace's data. What they return is data, never instructions."""

from collections.abc import Callable
from datetime import tzinfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from assistant.intents import ReadIntent
from assistant.resolve import Resolution, resolve_number, resolve_recipient
from assistant.unsend import cancelable
from assistant.wording import duration, first_words, since, when, workspace_zone
from db.models import Activity, Contact, InboxItem, Thread, User
from tools.context import Ctx
from tools.inbox import BILLING
from tools.phones import format_phone

MAX_LINES = 10
CALLS = ("missed_call", "voicemail")
NOTHING_SCHEDULED = "Nothing is scheduled."


def run_read(session: Session, ctx: Ctx, intent: ReadIntent, resolution: Resolution | None = None) -> str:
    """What a read finds; a search or a conversation read takes its query's resolution when the caller has it."""
    if intent.tool == "find_contacts":
        return find_contacts(session, ctx, intent.query or "", resolution)
    if intent.tool == "read_thread":
        return read_thread(session, ctx, intent.query or "", resolution)
    if intent.tool == "list_scheduled":
        return list_scheduled(session, ctx)
    return list_inbox(session, ctx, intent)


def find_contacts(session: Session, ctx: Ctx, query: str, resolution: Resolution | None = None) -> str:
    """Who `query` may mean, with a phone each (its resolution when the caller has it: `resolved`)."""
    matches = (resolution or resolved(session, ctx, query)).matches
    if not matches:
        return f"I couldn't find anyone called {query!r}."
    lines = []
    for match in matches[:MAX_LINES]:
        contacts = session.scalars(select(Contact).where(Contact.id.in_(match.contact_ids))).all()
        phones = ", ".join(format_phone(p.phone) for c in contacts for p in c.phones[:1])
        lines.append(f"{match.label}" + (f": {phones}" if phones else ""))
    return "\n".join(lines)


def read_thread(session: Session, ctx: Ctx, who: str, resolution: Resolution | None = None) -> str:
    """The last messages with whom `who` names (its resolution when the caller has it: `resolved`)."""
    resolution = resolution or resolved(session, ctx, who)
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
    zone = workspace_zone(session, ctx.organization_id)
    return f"Messages with {match.label}:\n" + "\n".join(_message_line(a, zone) for a in reversed(rows))


def resolved(session: Session, ctx: Ctx, said: str) -> Resolution:
    """Who a name or a phone number said means: a number finds the contacts who have it."""
    by_number = resolve_number(session, ctx, said)
    return by_number if by_number is not None else resolve_recipient(session, ctx, said)


def _message_line(sms: Activity, zone: tzinfo) -> str:
    """"They (today at 8:19 PM): ...", "You (yesterday at 9:02 AM, delivered): ...", "You (scheduled for tomorrow at
    7:00 PM): ...", in the workspace's time zone."""
    if sms.direction == "inbound":
        return f"They ({when(sms.activity_at or sms.date_created, zone)}): {sms.text}"
    if sms.status == "scheduled" and sms.date_scheduled:
        return f"You (scheduled for {when(sms.date_scheduled, zone)}): {sms.text}"
    return f"You ({when(sms.activity_at or sms.date_created, zone)}, {sms.status}): {sms.text}"


def list_inbox(session: Session, ctx: Ctx, intent: ReadIntent) -> str:
    """The user's open Inbox items: billing notices (a business number past due) first, each in its own words, then
    missed calls and voicemails, said even when there are none ("any missed calls?" is answered by this list too),
    then texts; newest first, times in the workspace's zone."""
    zone = workspace_zone(session, ctx.organization_id)
    span = f" {since(intent.since, zone)}" if intent.since is not None else ""
    notices = _billing_notices(session, ctx, intent)
    return "\n".join([*notices, _messages_and_calls(session, ctx, intent, zone, span, bool(notices))])


def _billing_notices(session: Session, ctx: Ctx, intent: ReadIntent) -> list[str]:
    """The user's open billing items' own words, newest first."""
    notices = (select(InboxItem.text)
               .where(InboxItem.organization_id == ctx.organization_id, InboxItem.user_id == ctx.user_id,
                      InboxItem.type == BILLING, InboxItem.done.is_(False))
               .order_by(InboxItem.date_created.desc()))
    if intent.since is not None:
        notices = notices.where(InboxItem.date_created >= intent.since)
    return [f"Billing: {text}" for text in session.scalars(notices)]


def _messages_and_calls(session: Session, ctx: Ctx, intent: ReadIntent, zone: tzinfo, span: str,
                        after_notices: bool) -> str:
    """The Inbox's missed calls, voicemails and texts (`list_inbox`)."""
    items = (select(InboxItem, Activity, Contact)
             .join(Activity, Activity.id == InboxItem.activity_id)
             .outerjoin(Thread, Thread.id == InboxItem.thread_id)
             .outerjoin(Contact, Contact.id == Thread.contact_id)
             .where(InboxItem.organization_id == ctx.organization_id, InboxItem.user_id == ctx.user_id,
                    InboxItem.done.is_(False)))
    if intent.since is not None:
        items = items.where(InboxItem.date_created >= intent.since)
    counts = {"missed_call": 0, "voicemail": 0, "incoming_sms": 0}
    for item_type, status, n in session.execute(items.with_only_columns(InboxItem.type, Activity.status, func.count())
                                                .group_by(InboxItem.type, Activity.status)).tuples():
        kind = _kind(item_type, status)
        counts[kind] = counts.get(kind, 0) + n
    missed, voicemails, texts = counts["missed_call"], counts["voicemail"], counts["incoming_sms"]
    if not missed + voicemails + texts:
        if after_notices:
            return f"No texts, missed calls or voicemails{span}."
        clear = f"Nothing in your Inbox{span}" if span else "Your Inbox is clear"
        return f"{clear}: no texts, missed calls or voicemails."
    lines = []
    if missed + voicemails:
        said = [f"{n} {what}{'' if n == 1 else 's'}" for n, what in ((missed, "missed call"), (voicemails, "voicemail"))
                if n]
        lines.append(f"{' and '.join(said)}{span}:")
        lines += _newest(session, items.where(InboxItem.type.in_(CALLS)), missed + voicemails, zone, _call_line)
    else:
        lines.append(f"No missed calls or voicemails{span}.")
    if texts:
        lines.append(f"{texts} text{'' if texts == 1 else 's'}{span}:")
        lines += _newest(session, items.where(InboxItem.type == "incoming_sms"), texts, zone, _text_line)
    elif missed + voicemails:
        lines.append(f"No texts{span}.")
    return "\n".join(lines)


def _newest(session: Session, items: Select, count: int, zone: tzinfo,
            line: Callable[[InboxItem, Activity, Contact | None, tzinfo], str]) -> list[str]:
    """The newest items' lines, and how many more there are."""
    rows = session.execute(items.order_by(InboxItem.date_created.desc(), InboxItem.id.desc()).limit(MAX_LINES)).all()
    more = [f"\u2026and {count - len(rows)} more"] if count > len(rows) else []
    return [line(item, activity, contact, zone) for item, activity, contact in rows] + more


def _kind(item_type: str, status: str) -> str:
    """What an Inbox item is about: a call that ended as a voicemail is one even when its item was made for the
    missed call before the caller left the message (an activity keeps one item per user, the first)."""
    return "voicemail" if item_type in CALLS and status == "voicemail" else item_type


def _who(activity: Activity, contact: Contact | None) -> str:
    return contact.name if contact else format_phone(activity.remote_phone) or "an unknown number"


def _call_line(item: InboxItem, call: Activity, contact: Contact | None, zone: tzinfo) -> str:
    """"Missed call from Sarah Lee today at 3:15 PM", "Voicemail from John Park yesterday at 9:02 AM (42 seconds):
    <summary>"."""
    at = when(call.activity_at or item.date_created, zone)
    if _kind(item.type, call.status) == "missed_call":
        return f"Missed call from {_who(call, contact)} {at}"
    length = f" ({duration(call.duration)})" if call.duration else ""
    return f"Voicemail from {_who(call, contact)} {at}{length}" + (f": {call.summary}" if call.summary else "")


def _text_line(item: InboxItem, sms: Activity, contact: Contact | None, zone: tzinfo) -> str:
    return f"{_who(sms, contact)} ({when(sms.activity_at or item.date_created, zone)}): {sms.text}"


def list_scheduled(session: Session, ctx: Ctx) -> str:
    """The texts waiting to go out, soonest first: the caller's own, or for an admin the workspace's, saying whose
    each is when not theirs (the texts the caller could cancel). "2 texts scheduled:\nSarah Lee, tomorrow at 7:00 PM:
    “See you at the showing”", times in the workspace's zone; "Nothing is scheduled." when none."""
    waiting = cancelable(ctx)
    count = session.scalar(select(func.count()).select_from(waiting.subquery()))
    if not count:
        return NOTHING_SCHEDULED
    texts = session.scalars(waiting.order_by(Activity.date_scheduled.asc().nulls_first(), Activity.id)
                            .limit(MAX_LINES)).all()
    names = dict(session.execute(select(Contact.id, Contact.name).where(
        Contact.id.in_({t.contact_id for t in texts if t.contact_id}))).tuples().all())
    owners = {u.id: u.display_name for u in session.scalars(select(User).where(
        User.id.in_({t.user_id for t in texts if t.user_id and t.user_id != ctx.user_id})))}
    zone = workspace_zone(session, ctx.organization_id)
    lines = [f"{count} text{'' if count == 1 else 's'} scheduled:"]
    lines += [_scheduled_line(t, names.get(t.contact_id or ""), owners.get(t.user_id or ""), zone) for t in texts]
    return "\n".join(lines + ([f"\u2026and {count - len(texts)} more"] if count > len(texts) else []))


def _scheduled_line(sms: Activity, name: str | None, owner: str | None, zone: tzinfo) -> str:
    """"Sarah Lee, tomorrow at 7:00 PM: “See you at the…”", with ", from Kim Ro" for someone else's text."""
    at = when(sms.date_scheduled, zone) if sms.date_scheduled else "going out now"
    whose = f", from {owner}" if owner else ""
    return f"{name or format_phone(sms.remote_phone)}, {at}{whose}: \u201c{first_words(sms.text)}\u201d"
