"""The demo workspace: a user, a sandbox business line, a few leads and contacts, two templates."""

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db.models import ApiKey, Membership, Organization, PhoneNumber, SmsTemplate, User
from tools import crm
from tools.context import Ctx
from tools.workspaces import create_api_key, create_organization

DEMO_EMAIL = "demo@cody.local"
DEMO_NUMBER = "+14155550100"

LEADS = [
    crm.LeadIn(name="Sarah Lee", contacts=[crm.ContactIn(name="Sarah Lee", title="Buyer",
               phones=[crm.PhoneIn(phone="(415) 555-0132", type="mobile")],
               emails=[crm.EmailIn(email="sarah.lee@example.com")])]),
    crm.LeadIn(name="The Smiths", description="Smith household, relocating from Denver", contacts=[
        crm.ContactIn(name="Mary Smith", phones=[crm.PhoneIn(phone="(415) 555-0143", type="mobile")]),
        crm.ContactIn(name="David Smith", phones=[crm.PhoneIn(phone="(415) 555-0144", type="mobile")]),
    ]),
    crm.LeadIn(name="Acme Corp", url="https://acme.example.com", contacts=[
        crm.ContactIn(name="John Park", title="Facilities manager",
                      phones=[crm.PhoneIn(phone="(212) 555-0123", type="mobile")]),
    ]),
    crm.LeadIn(name="Luc Tremblay", contacts=[
        crm.ContactIn(name="Luc Tremblay", phones=[crm.PhoneIn(phone="+1 604 555 0188", type="mobile")]),
    ]),
]

TEMPLATES = [
    ("Showing confirmation",
     "Hi {{ contact.first_name }}, this confirms your showing at {{ time }}. See you there! - {{ user.first_name }}"),
    ("Running late",
     "Hi {{ contact.first_name }}, it's {{ user.first_name }} from {{ organization.name }}: "
     "I'm running about {{ minutes }} minutes late. Sorry!"),
]


@dataclass(frozen=True)
class Demo:
    organization_id: str
    user_id: str
    api_key: str
    number: str
    created: bool
    revoked: int = 0  # earlier keys of the demo user revoked by this run


def revoke_demo_keys(session: Session) -> int:
    """Revoke every key the demo user holds, so only the key a run issues (and puts in the page) works; how many."""
    demo_users = select(User.id).where(User.email == DEMO_EMAIL)
    done = session.execute(update(ApiKey).where(ApiKey.user_id.in_(demo_users), ApiKey.revoked.is_(False))
                           .values(revoked=True))
    return done.rowcount or 0


def seed_demo(session: Session) -> Demo:
    """Create the demo workspace once; on later runs, revoke the keys issued before and issue a fresh one."""
    user = session.scalar(select(User).where(User.email == DEMO_EMAIL))
    if user is not None:
        revoked = revoke_demo_keys(session)
        membership = session.scalar(select(Membership).where(Membership.user_id == user.id))
        key = create_api_key(session, membership.organization_id, user.id)
        return Demo(membership.organization_id, user.id, key, DEMO_NUMBER, created=False, revoked=revoked)
    ws = create_organization(session, "Bayview Realty (demo)", DEMO_EMAIL, "Dana", "Reyes",
                             timezone="America/Los_Angeles")
    org = session.get(Organization, ws.organization_id)
    org.wallet_balance = Decimal("25.00")
    org.business_info = "Bayview Realty helps families buy and sell homes around San Francisco Bay. Open 9-6 daily."
    session.get(User, ws.user_id).forwarding_phone = "+14155550199"
    ctx = Ctx(organization_id=ws.organization_id, user_id=ws.user_id, role="admin")
    for lead in LEADS:
        crm.create_lead(session, ctx, lead)
    session.add(PhoneNumber(organization_id=ws.organization_id, number=DEMO_NUMBER, label="Main line", country="US",
                            sms=True, mms=True, voice=True, user_id=ws.user_id, sharing="personal",
                            provider="sandbox", provider_sid="PNdemo00000000000000000000000000",
                            monthly_cost=Decimal("1.15")))
    for name, text in TEMPLATES:
        session.add(SmsTemplate(organization_id=ws.organization_id, name=name, text=text, is_shared=True,
                                user_id=ws.user_id, created_by=ws.user_id))
    session.flush()
    return Demo(ws.organization_id, ws.user_id, ws.api_key, DEMO_NUMBER, created=True)
