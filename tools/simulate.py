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


class SimulatedCall(BaseModel):
    contact_id: str | None = None
    from_phone: str | None = Field(default=None, max_length=64)
    to_phone: str | None = Field(default=None, max_length=64)
    hangs_up: bool = False
    leaves_voicemail: bool = True


def simulate_inbound_sms(session: Session, ctx: Ctx, provider: Provider, data: SimulatedSms) -> str:
    """Post a signed incoming-SMS webhook to this app from a contact (or any number); returns its MessageSid."""
    sandbox = _sandbox(provider)
    from_ = _caller(session, ctx, data.contact_id, data.from_phone)
    form = sandbox.simulate_inbound_sms(from_, _business_number(session, ctx, data.to_phone), data.body)
    session.rollback()  # no transaction stays open while the webhook (which writes) runs
    sandbox.post_callback(form)
    return dict(form.params)["MessageSid"]


def simulate_inbound_call(session: Session, ctx: Ctx, provider: Provider, data: SimulatedCall) -> str:
    """Ring this app's voice webhook from a contact, as Twilio would, and play the call out; returns its CallSid."""
    sandbox = _sandbox(provider)
    from_ = _caller(session, ctx, data.contact_id, data.from_phone)
    to = _business_number(session, ctx, data.to_phone)
    session.rollback()
    return sandbox.simulate_inbound_call(from_, to, hangs_up_while_ringing=data.hangs_up,
                                         leaves_voicemail=data.leaves_voicemail)


def _sandbox(provider: Provider) -> SandboxProvider:
    if not isinstance(provider, SandboxProvider):
        raise NotImplementedYet("Simulating works only on the sandbox line; with Twilio, text or call the number for real.")
    return provider


def _caller(session: Session, ctx: Ctx, contact_id: str | None, from_phone: str | None) -> str:
    if contact_id:
        contact = crm.get_contact(session, ctx, contact_id)
        if not contact.phones:
            raise Invalid.one("no_phone", "contact_id", f"{contact.name} has no phone number.")
        return contact.phones[0].phone
    if from_phone:
        return normalise(from_phone, "US", field="from_phone").e164
    raise Invalid.one("required", "contact_id", "Give contact_id or from_phone.")


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
