"""Twilio's SMS webhooks: delivery status callbacks and incoming messages."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.webhooks.twilio_auth import TwilioForm, twiml_ok
from tools.messaging.inbound import receive_sms

router = APIRouter(tags=["webhooks"], include_in_schema=False)


# These two are the hottest routes (every text in, two callbacks per text out): each opens its one session in the
# handler's own worker thread rather than through a yield dependency, which costs a threadpool hop to enter and
# another to leave.


@router.post("/sms/status")
def sms_status(request: Request, form: TwilioForm) -> Response:
    """Moves the message forward (sent, delivered, error); a repeat or a late callback changes nothing."""
    sid, status, code = form.get("MessageSid"), form.get("MessageStatus"), form.get("ErrorCode")
    if sid and status:
        with request.app.state.factory() as session:
            request.app.state.runtime.messaging.record_carrier_status(
                session, sid, status, int(code) if code and code.isdigit() else None,
                activity_id=request.query_params.get("activity_id"))
    return twiml_ok()


@router.post("/sms")
def incoming_sms(request: Request, form: TwilioForm) -> Response:
    """An incoming text or picture message; a repeat, or one to an unknown number, stores nothing."""
    with request.app.state.factory() as session:
        receive_sms(session, form)
    return twiml_ok()
