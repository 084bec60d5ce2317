"""Who a Slack user is in Cody: an explicit link made with a one-time code, else the Cody user with their email.

Links and pending codes live in `app_secret` rows (no table of their own yet):

    slack_link:<CODE>           -> "<organization_id>:<user_id>:<expires epoch seconds>"   (one use, short-lived)
    slack_user:<team>:<user>    -> "<organization_id>:<user_id>"                             (made by redeeming a code)

Slack event ids are remembered in `webhook_receipt` (event "slack:event") so a retried delivery does nothing twice.
"""

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from db.models import AppSecret, Membership, User, WebhookReceipt
from db.types import utcnow
from tools.context import Ctx
from tools.problems import Conflict, Invalid
from tools.upsert import insert_ignore

CODE_PREFIX = "slack_link:"
LINK_PREFIX = "slack_user:"
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CODE_LENGTH = 8
EVENT_RECEIPT = "slack:event"


@dataclass(frozen=True)
class LinkCode:
    code: str
    expires_at: datetime


def _ctx(membership: Membership) -> Ctx:
    return Ctx(membership.organization_id, membership.user_id, "slack",
               permissions=frozenset(membership.permissions or ()), role=membership.role)


def _membership(session: Session, organization_id: str, user_id: str) -> Membership | None:
    return session.scalar(select(Membership).where(Membership.organization_id == organization_id,
                                                   Membership.user_id == user_id))


def link_key(team_id: str | None, slack_user_id: str) -> str:
    key = f"{LINK_PREFIX}{team_id or '-'}:{slack_user_id}"
    if len(key) <= 64:
        return key
    return LINK_PREFIX + hashlib.sha256(f"{team_id}:{slack_user_id}".encode()).hexdigest()[:48]


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def looks_like_code(text: str) -> bool:
    code = normalise_code(text)
    return len(code) == CODE_LENGTH and all(ch in CODE_ALPHABET for ch in code)


def issue_link_code(session: Session, ctx: Ctx, minutes: int) -> LinkCode:
    """A one-time code the signed-in user types as `/cody link CODE` in Slack; earlier codes of theirs stop working."""
    now = int(time.time())
    owner = f"{ctx.organization_id}:{ctx.user_id}:"
    for row in session.scalars(select(AppSecret).where(AppSecret.name.startswith(CODE_PREFIX, autoescape=True))):
        expires = _code_expiry(row.value)
        if row.value.startswith(owner) or expires is None or expires <= now:
            session.delete(row)
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    expires_at = now + minutes * 60
    session.add(AppSecret(name=CODE_PREFIX + code, value=f"{owner}{expires_at}"))
    session.commit()
    return LinkCode(code, datetime.fromtimestamp(expires_at, UTC))


def _code_expiry(value: str) -> int | None:
    try:
        return int(value.rsplit(":", 1)[1])
    except (IndexError, ValueError):
        return None


def redeem_link_code(session: Session, team_id: str | None, slack_user_id: str, code: str) -> Ctx:
    """Link the Slack user to the Cody user who asked for the code; the code works once."""
    name = CODE_PREFIX + normalise_code(code)
    row = session.get(AppSecret, name)
    refused = Invalid.one("invalid_code", "code",
                          "That link code isn't valid or has expired. Get a new one from Cody's web page.")
    if row is None:
        raise refused
    value = row.value
    gone = session.execute(delete(AppSecret).where(AppSecret.name == name, AppSecret.value == value)
                           .execution_options(synchronize_session=False))
    expires = _code_expiry(value)
    if gone.rowcount != 1 or expires is None or expires <= time.time():
        session.commit()
        raise refused
    organization_id, user_id, _ = value.split(":", 2)
    membership = _membership(session, organization_id, user_id)
    if membership is None:
        session.commit()
        raise refused
    key = link_key(team_id, slack_user_id)
    existing = session.get(AppSecret, key)
    if existing is None:
        session.add(AppSecret(name=key, value=f"{organization_id}:{user_id}"))
    else:
        existing.value = f"{organization_id}:{user_id}"
    session.commit()
    return _ctx(membership)


def unlink(session: Session, team_id: str | None, slack_user_id: str) -> bool:
    gone = session.execute(delete(AppSecret).where(AppSecret.name == link_key(team_id, slack_user_id))
                           .execution_options(synchronize_session=False))
    session.commit()
    return gone.rowcount == 1


def linked_ctx(session: Session, team_id: str | None, slack_user_id: str) -> Ctx | None:
    """The Cody user this Slack user linked with a code, while that membership still exists."""
    row = session.get(AppSecret, link_key(team_id, slack_user_id))
    if row is None:
        return None
    organization_id, _, user_id = row.value.partition(":")
    membership = _membership(session, organization_id, user_id)
    return _ctx(membership) if membership is not None else None


def ctx_for_email(session: Session, email: str) -> Ctx | None:
    """The Cody user with this email, in their one workspace; several workspaces need an explicit link."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        return None
    memberships = list(session.scalars(select(Membership).where(Membership.user_id == user.id)
                                       .order_by(Membership.date_created)))
    if not memberships:
        return None
    if len(memberships) > 1:
        raise Conflict(f"{user.email} belongs to {len(memberships)} Cody workspaces; link the one you mean with "
                       "`/cody link CODE` (get a code on Cody's web page).")
    return _ctx(memberships[0])


def first_delivery(session: Session, event_id: str) -> bool:
    """True the first time an Events API event id is seen; retries and duplicates answer False."""
    inserted = insert_ignore(session, WebhookReceipt, {"provider_sid": event_id[:64], "event": EVENT_RECEIPT,
                                                       "date_created": utcnow()}, ["provider_sid", "event"])
    session.commit()
    return inserted
