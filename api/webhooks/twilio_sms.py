"""Twilio's SMS webhooks: delivery status callbacks and incoming messages."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import SessionDep
from api.webhooks.twilio_auth import TwilioForm, twiml_ok
from db.types import utcnow
from db.models import WebhookReceipt
from tools.upsert import insert_ignore

router = APIRouter(prefix="/api/webhooks/twilio", tags=["webhooks"], include_in_schema=False)


@router.post("/sms/status")
def sms_status(request: Request, form: TwilioForm, session: SessionDep) -> Response:
    """Moves the message forward (sent, delivered, error); a repeat or a late callback changes nothing."""
    sid, status = form.get("MessageSid"), form.get("MessageStatus")
    if not sid or not status:
        return twiml_ok()
    first = insert_ignore(session, WebhookReceipt,
                          {"provider_sid": sid, "event": f"status:{status}", "date_created": utcnow()},
                          ["provider_sid", "event"])
    if not first:
        return twiml_ok()
    code = form.get("ErrorCode")
    request.app.state.runtime.messaging.record_carrier_status(session, sid, status, int(code) if code and code.isdigit() else None)
    session.commit()
    return twiml_ok()
