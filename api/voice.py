"""Voice commands: a spoken request (its transcript, or the audio itself), answered like the chat API.

POST /api/voice/commands takes JSON `{"transcript", "conversation_id"}` or a multipart form with `audio` (a file),
and optionally `transcript` and `conversation_id`. Audio is transcribed through OpenAI's audio API when a model
is configured; otherwise the answer is a plain 501. The words then go to the same assistant as the chat, on the
"voice" channel: drafts are made, nothing is sent until the user confirms.
"""

import json
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.chat import draft_json
from api.deps import CurrentCtx, SessionDep
from api.v1.sms_shapes import sms_json
from assistant.settings import assistant_settings
from assistant.setup import build_assistant
from tools.context import Ctx
from tools.problems import Invalid, NotImplementedYet, ServiceError
from tools.voice.intelligence import Intelligence, IntelligenceError
from tools.voice.settings import VoiceSettings

router = APIRouter(tags=["voice"])

MAX_AUDIO_BYTES = 25 * 1024 * 1024
NEEDS_MODEL = ("Transcribing audio needs a speech model: set OPENAI_API_KEY (and OPENAI_BASE_URL or "
               "TRANSCRIPTION_MODEL for another server), or send the words as \"transcript\".")


NOT_A_COMMAND = "Send JSON with \"transcript\", or a form with an audio file."


class TranscriptionFailed(ServiceError):
    status_code = 502


class VoiceCommandIn(BaseModel):
    transcript: str | None = Field(default=None, max_length=4000)
    conversation_id: str | None = Field(default=None, max_length=40)


def intelligence(app: FastAPI) -> Intelligence:
    """The process's call intelligence (transcription and summaries), built once from the environment."""
    found = getattr(app.state, "intelligence", None)
    if found is None:
        found = app.state.intelligence = Intelligence(VoiceSettings())
    return found


def assistant_of(app: FastAPI):
    """The chat's assistant (app.state.assistant), or one built like it when the app was made without one."""
    found = getattr(app.state, "assistant", None)
    if found is None:
        found = app.state.assistant = build_assistant(app.state.runtime.messaging, assistant_settings())
    return found


def voice_ctx(ctx: Ctx) -> Ctx:
    return Ctx(ctx.organization_id, ctx.user_id, "voice", permissions=ctx.permissions, role=ctx.role)


@router.post("/commands")
async def voice_command(request: Request, session: SessionDep, ctx: CurrentCtx) -> dict[str, Any]:
    body, audio = await _read(request)
    transcript = (body.transcript or "").strip()
    if audio is not None:
        await run_in_threadpool(session.commit)  # hold no database lock while the audio is transcribed
        transcript = await _transcribe(request.app, *audio)
    if not transcript:
        raise Invalid.one("required", "transcript", "Say what you'd like Cody to do (a transcript or an audio file).")
    # The request's own session (authentication already opened it): a second one would wait on SQLite's lock.
    return await run_in_threadpool(_answer, request.app, session, voice_ctx(ctx), transcript, body.conversation_id)


def _answer(app: FastAPI, session: Session, ctx: Ctx, transcript: str, conversation_id: str | None) -> dict[str, Any]:
    result = assistant_of(app).handle(session, ctx, transcript, conversation_id)
    return {"transcript": transcript, "conversation_id": result.conversation_id, "reply": result.reply,
            "drafts": [draft_json(d) for d in result.drafts], "question": result.question,
            "activities": [sms_json(a) for a in result.activities]}


async def _read(request: Request) -> tuple[VoiceCommandIn, tuple[bytes, str, str] | None]:
    content_type = request.headers.get("content-type", "")
    try:
        if content_type.startswith("multipart/form-data"):
            form = await request.form()
            upload = form.get("audio")
            body = VoiceCommandIn(transcript=_text(form.get("transcript")),
                                  conversation_id=_text(form.get("conversation_id")))
            if upload is None or isinstance(upload, str):
                return body, None
            data = await upload.read(MAX_AUDIO_BYTES + 1)
            if len(data) > MAX_AUDIO_BYTES:
                raise Invalid.one("too_large", "audio", "The audio file is over 25 MB.")
            if not data:
                raise Invalid.one("required", "audio", "The audio file is empty.")
            return body, (data, upload.filename or "command.webm", upload.content_type or "application/octet-stream")
        raw = await request.body()
        return VoiceCommandIn.model_validate(json.loads(raw or b"{}")), None
    except (ValueError, ValidationError) as exc:
        if isinstance(exc, ValidationError):
            field = ".".join(str(p) for p in exc.errors()[0]["loc"]) or "body"
            raise Invalid.one("invalid", field, exc.errors()[0]["msg"]) from None
        raise Invalid.one("invalid_json", "body", NOT_A_COMMAND) from None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


async def _transcribe(app: FastAPI, data: bytes, filename: str, content_type: str) -> str:
    engine = intelligence(app)
    if not engine.available:
        raise NotImplementedYet(NEEDS_MODEL)
    try:
        return await run_in_threadpool(engine.transcribe, data, filename, content_type)
    except IntelligenceError as exc:
        raise TranscriptionFailed(exc.message) from None
