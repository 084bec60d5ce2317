""""The last person who texted me": a recipient named by what they last did, not by name.

"text back the last person", "reply to the last text: on my way", "text whoever texted me last ...", "call back the
last caller", "call whoever called me last". Said of texts ("texted", "the last text"), the person is the sender of
the caller's newest incoming text; of calls ("called", "the last caller", "the last missed call"), of the newest
incoming call; else ("the last person") of either. The caller's own: a text or call that reached their Inbox, or one
they handled (a call they answered).
"""

import re
from typing import Literal

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from db.models import Activity, InboxItem
from tools.context import Ctx

Kind = Literal["sms", "call", "any"]

_DID = r"(?:texted|messaged|wrote|sent\s+me\s+a\s+(?:text|message)|called|rang|phoned)"
_ME = r"(?:\s+(?:me|us))?"
LAST_PERSON = re.compile(
    rf"""(?:
        (?:the\s+)?(?:last|latest|most\s+recent)\s+(?:(?P<noun>person|caller|texter|contact|number)|one(?=\s))
            (?:\s+(?:who|that|to\s+have)\s+(?:just\s+)?(?P<did>{_DID}){_ME}(?:\s+last)?)?
      | (?:the|my)\s+(?:last|latest|most\s+recent)\s+(?P<thing>(?:missed\s+)?call|text|message|sms)
      | (?:whoever|the\s+person\s+(?:who|that))\s+(?:just\s+|last\s+)?(?P<whoever>{_DID}){_ME}(?:\s+last)?
    )(?![\w'’])""",
    re.I | re.X,
)
NOBODY = {"sms": "No one has texted you yet.", "call": "No one has called you yet.",
          "any": "No one has texted or called you yet."}


def last_kind(said: str) -> Kind | None:
    """What a recipient said as a phrase of LAST_PERSON speaks of, or None for any other recipient."""
    m = LAST_PERSON.fullmatch(said.strip().rstrip(".!?"))
    if m is None:
        return None
    word = (m["did"] or m["whoever"] or m["thing"] or m["noun"] or "").lower()
    if word.startswith(("text", "messag", "wrote", "sent", "sms")):
        return "sms"
    if word.startswith(("call", "rang", "phoned", "missed")):
        return "call"
    return "any"


def last_inbound(session: Session, ctx: Ctx, kind: Kind) -> Activity | None:
    """The caller's newest incoming text or call (by kind) with someone to answer: a contact or a number."""
    types = ("sms", "call") if kind == "any" else (kind,)
    mine = or_(Activity.user_id == ctx.user_id,
               exists().where(InboxItem.activity_id == Activity.id, InboxItem.user_id == ctx.user_id))
    return session.scalars(
        select(Activity)
        .where(Activity.organization_id == ctx.organization_id, Activity.type.in_(types),
               Activity.direction == "inbound", Activity.remote_phone.is_not(None), mine)
        .order_by(Activity.date_created.desc(), Activity.id.desc())
        .limit(1)
    ).first()
