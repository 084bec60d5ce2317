"""A workspace of three people on one shared line, each with their own API key, served live.

Ana is the admin; Bob and Carol are plain members (no permissions). Sarah Lee is a contact; the line is a group
number, so every member can text her from it. Used by the permission tests and the Inbox's hand-over tests.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

import httpx
from sqlalchemy.orm import Session, sessionmaker

from db.models import Organization, PhoneNumber
from db.session import transaction
from tests.live import LiveCody, http_client, live_cody
from tools import crm
from tools.context import Ctx
from tools.workspaces import add_member, create_api_key, create_organization, create_user

LINE = "+14155550100"
SARAH = "+14155550132"


@dataclass(frozen=True)
class Person:
    user_id: str
    api: httpx.Client


@dataclass(frozen=True)
class Team:
    live: LiveCody
    organization_id: str
    sarah_id: str  # her contact's id
    ana: Person  # admin
    bob: Person  # member
    carol: Person  # member


def _seed(session: Session) -> tuple[str, str, dict[str, tuple[str, str]]]:
    ws = create_organization(session, "Acme Realty", "ana@acme.test", "Ana", "Diaz")
    keys = {"ana": (ws.user_id, ws.api_key)}
    for first, last in (("Bob", "Ng"), ("Carol", "Ruiz")):
        user = create_user(session, f"{first.lower()}@acme.test", first, last)
        session.flush()
        add_member(session, ws.organization_id, user)
        keys[first.lower()] = (user.id, create_api_key(session, ws.organization_id, user.id))
    session.get(Organization, ws.organization_id).wallet_balance = Decimal("25")
    session.add(PhoneNumber(organization_id=ws.organization_id, number=LINE, label="Main line", country="US",
                            sms=True, mms=True, voice=True, user_id=None, sharing="group", provider="sandbox",
                            provider_sid="PN" + "1" * 32, monthly_cost=Decimal("1.15")))
    ctx = Ctx(organization_id=ws.organization_id, user_id=ws.user_id, role="admin")
    lead = crm.create_lead(session, ctx, crm.LeadIn(name="Sarah Lee", contacts=[crm.ContactIn(
        name="Sarah Lee", phones=[crm.PhoneIn(phone=SARAH, type="mobile")])]))
    session.flush()
    return ws.organization_id, lead.contacts[0].id, keys


@contextmanager
def live_team(db_url: str, factory: sessionmaker[Session]) -> Iterator[Team]:
    with transaction(factory) as session:
        organization_id, sarah_id, keys = _seed(session)
    with live_cody(db_url, factory, sandbox_callback_delay_seconds=0.0) as live:
        clients = {name: http_client(base_url=live.base_url, auth=(key, ""), timeout=30)
                   for name, (_, key) in keys.items()}
        try:
            yield Team(live, organization_id, sarah_id,
                       **{name: Person(keys[name][0], client) for name, client in clients.items()})
        finally:
            live.runtime.provider.wait_idle(10)
            for client in clients.values():
                client.close()
