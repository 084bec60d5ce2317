"""Twilio's voice webhooks: inbound calls, call status, dial results, voicemails, recordings, the voice agent,
voice commands by phone (PIN, request, confirm).

Every route checks X-Twilio-Signature (TwilioForm) and is idempotent (the tools/messaging callbacks keep a
WebhookReceipt per event; a voice command step is claimed once per `turn`); each answers TwiML. The `activity_id`
and `turn` in the query string were put there by Cody when it built the URL, and are covered by the signature.
"""

import logging

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api.deps import SessionDep
from api.voice import intelligence
from api.webhooks import voice_commands
from api.webhooks.twilio_auth import TwilioForm
from assistant import text_back
from tools.messaging import calls
from tools.messaging.calls import CallUpdate
from tools.messaging.voice_inbound import receive_call
from tools.voice import commands, twiml

router = APIRouter(tags=["webhooks"], include_in_schema=False)
log = logging.getLogger("cody.webhooks")



def xml(document: str) -> Response:
    return Response(document, media_type="application/xml")


def _activity_id(request: Request) -> str | None:
    return request.query_params.get("activity_id")


def _turn(request: Request) -> int:
    """The voice command step a <Gather> action answers (-1, which no step has, when missing)."""
    turn = request.query_params.get("turn", "")
    return int(turn) if turn.isdecimal() else -1


@router.post("/voice")
def incoming_call(request: Request, form: TwilioForm, session: SessionDep) -> Response:
    """A call to a business number: ring the owner's phone, or take a voicemail."""
    return xml(receive_call(session, request.app.state.runtime.settings, form).twiml)


@router.post("/voice/status")
def call_status(request: Request, form: TwilioForm, session: SessionDep, background: BackgroundTasks) -> Response:
    """Progress of a click-to-call's first leg, or the end of an incoming call (a missed call when nobody took it)."""
    update = calls.apply_call_status(session, form, _activity_id(request))
    session.commit()
    _after(request, session, update, background)
    return xml(twiml.empty())


@router.post("/voice/connect")
def connect(request: Request, form: TwilioForm, session: SessionDep) -> Response:
    """The user's own phone answered: ask for a key before the contact is dialled."""
    return xml(calls.connect_twiml(session, request.app.state.runtime.settings, _activity_id(request)))


@router.post("/voice/accept")
def accept(request: Request, form: TwilioForm, session: SessionDep) -> Response:
    """A key was pressed on the user's phone (dial the contact), or none was (end without calling them)."""
    return xml(calls.accept_twiml(session, request.app.state.runtime.settings, _activity_id(request),
                                  form.get("Digits") or ""))


@router.post("/voice/dial-action")
def dial_action(request: Request, form: TwilioForm, session: SessionDep, background: BackgroundTasks) -> Response:
    """The <Dial> ended: log its outcome; an unanswered incoming call goes on to voicemail."""
    answer, update = calls.apply_dial_result(session, request.app.state.runtime.settings, form, _activity_id(request))
    session.commit()
    _after(request, session, update, background)
    return xml(answer)


@router.post("/voice/voicemail")
def voicemail(request: Request, form: TwilioForm, session: SessionDep) -> Response:
    """The <Record> ended: a message was left (or not)."""
    answer, _ = calls.apply_voicemail(session, form, _activity_id(request))
    return xml(answer)


@router.post("/voice/agent")
def agent(request: Request, form: TwilioForm, session: SessionDep) -> Response:
    """The caller spoke to the voice agent (<Gather input="speech">): answer and listen again."""
    turn = request.query_params.get("turn", "1")
    return xml(calls.agent_turn(session, request.app.state.runtime.settings, intelligence(request.app), form,
                                _activity_id(request), int(turn) if turn.isdigit() else 1))


@router.post("/voice/command/pin")
def command_pin(request: Request, form: TwilioForm, session: SessionDep) -> Response:
    """A user calling from their own phone keyed their PIN (<Gather input="dtmf">): the right one opens commands."""
    return xml(commands.check_pin(session, request.app.state.runtime.settings, form.get("CallSid") or "",
                                  _turn(request), form.get("Digits")))


@router.post("/voice/command/request")
def command_request(request: Request, form: TwilioForm, session: SessionDep) -> Response:
    """Past the PIN, the caller said what they want (<Gather input="speech">): Cody reads back any draft."""
    return xml(voice_commands.request_step(request.app, session, form, _turn(request)))


@router.post("/voice/command/confirm")
def command_confirm(request: Request, form: TwilioForm, session: SessionDep) -> Response:
    """The caller answered the read-back: only a clear yes sends."""
    return xml(voice_commands.confirm_step(request.app, session, form, _turn(request)))


@router.post("/voice/recording")
def recording(request: Request, form: TwilioForm, session: SessionDep, background: BackgroundTasks) -> Response:
    """A recording is ready: keep it and, when the workspace transcribes calls, transcribe it after answering."""
    activity = calls.apply_recording(session, form, _activity_id(request))
    if activity is not None:
        runtime = request.app.state.runtime
        background.add_task(calls.transcribe_call, runtime.factory, activity.id, intelligence(request.app),
                            runtime.settings)
    return xml(twiml.empty())


def _after(request: Request, session: Session, update: CallUpdate, background: BackgroundTasks) -> None:
    if update.became == "completed" and update.activity is not None and update.activity.handled_by == "ai":
        background.add_task(calls.summarise_call, request.app.state.runtime.factory, update.activity.id,
                            intelligence(request.app))
    if update.became == "missed" and update.activity is not None:
        try:
            text_back.draft(session, request.app.state.runtime.messaging, update.activity)
        except Exception:  # the call is logged either way; a draft that can't be made must not fail the webhook
            session.rollback()
            log.exception("could not draft a text-back for missed call %s", update.activity.id)
    if update.unmissed and update.activity is not None:
        text_back.withdraw(session, update.activity)
