"""Canceling a text still waiting to go out ("cancel the 7pm text to John"), through a draft like any other action.

Which texts: outbound SMS to the contact or lead named that are `scheduled`, or in the `outbox` and not yet claimed
by a worker (what Messaging.cancel accepts): a member's own, or for an admin any of the workspace's (the text then
says whose it is). The draft's preview is the text as it is now (recipient, line, words, time); its hash is the
text's fingerprint (id, status, time, words), so confirming cancels it only if it is still exactly that: a text
edited, rescheduled or sent since is refused with Conflict. Confirming calls Messaging.cancel, which puts the text
back to draft.
"""

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, tzinfo

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from assistant.choices import Choice
from assistant.timephrases import PHRASE, parse_time
from assistant.wording import clock, first_words, recipient
from db.models import Activity, Contact, User
from db.types import utcnow
from tools.context import Ctx
from tools.messaging import Messaging
from tools.messaging.holds import waiting
from tools.problems import Conflict

TOOL = "cancel_scheduled_sms"
MAX_OFFERED = 10  # the choices a question offers (and Slack shows as buttons)
SCAN = 200  # the waiting texts to one recipient read to find those at a named time
CHANGED = ("That text changed or went out since I showed it, so I didn't cancel it. Ask me again to see it as it "
           "is now.")
_SPOKEN_TIME = re.compile(rf"(?<!\w){PHRASE}", re.I)


@dataclass(frozen=True)
class Waiting:
    texts: list[Activity]
    more: bool  # more were waiting than are listed


@dataclass(frozen=True)
class PreparedCancel:
    """What canceling a waiting text would do, shaped as drafts.create_draft takes a prepared send."""

    shown: dict
    digest: str

    def preview(self) -> dict:
        return self.shown

    def fingerprint(self) -> str:
        return self.digest

    def problems_as_dicts(self) -> list[dict]:
        return []


def waiting_texts(session: Session, ctx: Ctx, recipient_id: str, at: time | None, zone: tzinfo) -> Waiting:
    """The texts to a contact (`cont_...`) or lead (`lead_...`) the caller may cancel, soonest first; with `at`,
    only those going out at that time of day."""
    to = Activity.contact_id == recipient_id if recipient_id.startswith("cont_") else Activity.lead_id == recipient_id
    texts = session.scalars(cancelable(ctx).where(to).order_by(Activity.date_scheduled, Activity.id).limit(SCAN)).all()
    if at is not None:
        texts = [t for t in texts if t.date_scheduled and t.date_scheduled.astimezone(zone).time() == at]
    return Waiting(list(texts[:MAX_OFFERED]), len(texts) > MAX_OFFERED)


def prepare(session: Session, ctx: Ctx, activity_id: str, zone: tzinfo) -> PreparedCancel | None:
    """The cancel of one waiting text, or None when it is not (or no longer) waiting or not the caller's."""
    activity = session.scalar(cancelable(ctx).where(Activity.id == activity_id))
    if activity is None:
        return None
    contact = session.get(Contact, activity.contact_id) if activity.contact_id else None
    owner = session.get(User, activity.user_id) if activity.user_id and activity.user_id != ctx.user_id else None
    when = activity.date_scheduled.astimezone(zone).isoformat() if activity.date_scheduled else None
    shown = {"activity_id": activity.id, "contact_id": activity.contact_id,
             "contact_name": contact.name if contact else None, "to": activity.remote_phone,
             "from": activity.local_phone, "text": activity.text, "status": activity.status, "date_scheduled": when,
             "scheduled_by": owner.display_name if owner else None}
    return PreparedCancel(shown, fingerprint(activity))


def execute(session: Session, ctx: Ctx, messaging: Messaging, activity_id: str, expected: str) -> Activity:
    """Cancel the text if it is still as it was shown (Conflict if not); it goes back to draft."""
    activity = session.scalar(cancelable(ctx).where(Activity.id == activity_id).with_for_update()
                              .execution_options(populate_existing=True))
    if activity is None or fingerprint(activity) != expected:
        raise Conflict(CHANGED)
    return messaging.cancel(session, ctx, activity_id)


def fingerprint(activity: Activity) -> str:
    """What a cancel was shown of a text: its id, status, time and words."""
    when = activity.date_scheduled.astimezone(UTC).isoformat() if activity.date_scheduled else None
    payload = {"id": activity.id, "status": activity.status, "date_scheduled": when, "text": activity.text}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def cancelable(ctx: Ctx) -> Select[tuple[Activity]]:
    """The outbound texts still waiting to go out that ctx may cancel: its own, or for an admin the workspace's."""
    stmt = select(Activity).where(Activity.organization_id == ctx.organization_id, Activity.type == "sms",
                                  Activity.direction == "outbound", waiting())
    return stmt if ctx.is_admin else stmt.where(Activity.user_id == ctx.user_id)


# -- words ----------------------------------------------------------------------------------------------------------


def offer(session: Session, ctx: Ctx, texts: list[Activity], zone: tzinfo, recipient_id: str) -> list[Choice]:
    """The texts as choices, soonest first: "7:00 PM tomorrow (“See you at the…”)", with whom each goes to when
    the recipient is a lead, and whose it is when not the caller's."""
    contact_ids = {t.contact_id for t in texts if t.contact_id} if recipient_id.startswith("lead_") else set()
    people = dict(session.execute(select(Contact.id, Contact.name).where(Contact.id.in_(contact_ids))).tuples().all())
    owner_ids = {t.user_id for t in texts if t.user_id and t.user_id != ctx.user_id}
    owners = {u.id: u.display_name for u in session.scalars(select(User).where(User.id.in_(owner_ids)))}
    return [{"label": _label(t, zone, people.get(t.contact_id or ""), owners.get(t.user_id or "")), "value": f"@{t.id}"}
            for t in texts]


def _label(text: Activity, zone: tzinfo, to: str | None, owner: str | None) -> str:
    moment = text.date_scheduled.astimezone(zone) if text.date_scheduled else None
    parts = [f"{clock(moment)}{_day(moment)}" if moment else "going out now"]
    parts += [f"to {to}"] if to else []
    parts += [f"from {owner}"] if owner else []
    return f"{' '.join(parts)} (\u201c{first_words(text.text)}\u201d)"


def _day(moment: datetime) -> str:
    """The day of a time as said from today, in its own zone: "" (today), " tomorrow", " on Friday", " on March 14"."""
    days = (moment.date() - utcnow().astimezone(moment.tzinfo).date()).days
    if days <= 0:
        return ""
    if days == 1:
        return " tomorrow"
    return f" on {moment:%A}" if days < 7 else f" on {moment:%B} {moment.day}"


def the_text(preview: dict, short: bool = False) -> str:
    """"the 7:00 PM text to Sarah Lee", "Kim Ro's 9:00 AM text to Sarah Lee tomorrow", "the text to Sarah Lee"."""
    who = recipient(preview)
    whose = f"{preview['scheduled_by']}'s" if preview.get("scheduled_by") else "the"
    iso = preview.get("date_scheduled")
    if not iso:
        return f"{whose} text to {who}"
    moment = datetime.fromisoformat(iso)
    return f"{whose} {clock(moment, short)} text to {who}{_day(moment)}"


def draft_line(preview: dict) -> str:
    return f"Cancel {the_text(preview)}: \u201c{preview.get('text') or ''}\u201d?"


def done_reply(preview: dict) -> str:
    return f"Canceled: {the_text(preview)} won't go out; it's kept as a draft."


def kept_reply(preview: dict) -> str:
    return f"Okay, I've left it: {the_text(preview)} still goes out."


def pick_by_time(answer: str, choices: list[Choice], now: datetime) -> Choice | None:
    """The one choice at the time the answer names ("the 7pm one", "7:30"), or None."""
    found = _SPOKEN_TIME.search(answer)
    moment = parse_time(found[0], now) if found else None
    if moment is None:
        return None
    fits = [c for c in choices if c["label"].startswith(f"{clock(moment)} ")]
    return fits[0] if len(fits) == 1 else None
