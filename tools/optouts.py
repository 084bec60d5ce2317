"""Opt-outs: a phone that replied STOP gets nothing from this workspace until START."""

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from db.models import OptOut
from db.types import utcnow
from tools.upsert import insert_ignore

OPT_OUT_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
OPT_IN_KEYWORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_KEYWORDS = frozenset({"HELP", "INFO"})


def keyword_of(body: str) -> str | None:
    """The keyword when the whole message is one (case and surrounding spaces ignored)."""
    word = body.strip().strip(".!").upper()
    if word in OPT_OUT_KEYWORDS | OPT_IN_KEYWORDS | HELP_KEYWORDS:
        return word
    return None


_OPTED_OUT = select(OptOut.id).where(OptOut.organization_id == bindparam("org"), OptOut.phone == bindparam("phone"))
# The same test as a column, for a statement that reads other things in the same round trip (binds "org", "phone").
OPTED_OUT = _OPTED_OUT.exists()


def is_opted_out(session: Session, organization_id: str, phone: str) -> bool:
    return session.scalar(_OPTED_OUT, {"org": organization_id, "phone": phone}) is not None


def record_opt_out(session: Session, organization_id: str, phone: str, source: str = "keyword") -> None:
    insert_ignore(session, OptOut, {"organization_id": organization_id, "phone": phone, "source": source,
                                    "date_created": utcnow()}, ["organization_id", "phone"])


def remove_opt_out(session: Session, organization_id: str, phone: str) -> None:
    session.execute(delete(OptOut).where(OptOut.organization_id == organization_id, OptOut.phone == phone))
