"""The sandbox panel: a contact "replies" through the same signed webhook a real carrier would call."""

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import PhoneNumber
from tools import crm
from tools.context import Ctx
from tools.messaging.sender import usable_numbers
from tools.phones import normalise
from tools.problems import Invalid, NotImplementedYet
from tools.telephony.base import Provider
from tools.telephony.sandbox import SandboxProvider


class SimulatedSms(BaseModel):
    contact_id: str | None = None
    from_phone: str | None = Field(default=None, max_length=64)
    to_phone: str | None = Field(default=None, max_length=64)
    body: str = Field(max_length=1600)


def simulate_inbound_sms(session: Session, ctx: Ctx, provider: Provider, data: SimulatedSms) -> str:
    """Post a signed incoming-SMS webhook to this app from a contact (or any number); returns its MessageSid."""
    if not isinstance(provider, SandboxProvider):
        raise NotImplementedYet("Simulating a reply works only on the sandbox line; with Twilio, text the number for real.")
    if data.contact_id:
        contact = crm.get_contact(session, ctx, data.contact_id)
        if not contact.phones:
            raise Invalid.one("no_phone", "contact_id", f"{contact.name} has no phone number.")
        from_ = contact.phones[0].phone
    elif data.from_phone:
        from_ = normalise(data.from_phone, "US", field="from_phone").e164
    else:
        raise Invalid.one("required", "contact_id", "Give contact_id or from_phone.")
    form = provider.simulate_inbound_sms(from_, _business_number(session, ctx, data.to_phone), data.body)
    session.rollback()  # no transaction stays open while the webhook (which writes) runs
    provider.post_callback(form)
    return dict(form.params)["MessageSid"]


def _business_number(session: Session, ctx: Ctx, to_phone: str | None) -> str:
    if to_phone:
        e164 = normalise(to_phone, "US", field="to_phone").e164
        owned = session.scalar(select(PhoneNumber.id).where(PhoneNumber.organization_id == ctx.organization_id,
                                                            PhoneNumber.number == e164, PhoneNumber.status == "active"))
        if owned is None:
            raise Invalid.one("unknown_local_phone", "to_phone", "That is not one of this workspace's numbers.")
        return e164
    numbers = usable_numbers(session, ctx)
    if not numbers:
        raise Invalid.one("no_business_line", "to_phone", "Set up a business line first (Settings, Business Phone)")
    return numbers[0].number
