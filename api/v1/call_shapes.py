"""Call activities in Close's JSON shape, with Cody's call intelligence (transcript, summary, commitments)."""

from typing import Any

from pydantic import BaseModel, Field

from api.v1.shapes import iso
from db.models import Activity
from tools.messaging.calls import CallRequest, PreparedCall
from tools.phones import format_phone, region_of
from tools.voice.intelligence import NO_MODEL


class CallIn(BaseModel):
    """POST /call/dial/ (and /call/prepare/): a contact or a bare number; optionally which business line."""

    contact_id: str | None = Field(default=None, max_length=40)
    remote_phone: str | None = Field(default=None, max_length=64)
    local_phone: str | None = Field(default=None, max_length=64)

    def call_request(self) -> CallRequest:
        return CallRequest(contact_id=self.contact_id, remote_phone=self.remote_phone, local_phone=self.local_phone)


def intelligence_state(activity: Activity, transcription_enabled: bool, model_ready: bool) -> tuple[str, str | None]:
    """("available" | "pending" | "unavailable", a plain sentence saying why when there is nothing to show)."""
    if activity.transcript is not None:
        if activity.summary:
            return "available", None
        return "available", "Nothing was said in the recording, so there is no summary."
    if not activity.recording_url:
        return "unavailable", "This call has no recording, so there is no transcript or summary."
    if not transcription_enabled:
        return "unavailable", "Transcription is off for this workspace, so there is no transcript or summary."
    if not model_ready:
        return "unavailable", NO_MODEL
    return "pending", "The transcript and summary are not ready yet (or could not be made from this recording)."


def call_json(activity: Activity, names: dict[str, str] | None = None, *, transcription_enabled: bool = False,
              model_ready: bool = False) -> dict[str, Any]:
    names = names or {}
    voicemail = activity.status == "voicemail"
    state, note = intelligence_state(activity, transcription_enabled, model_ready)
    return {
        "_type": "Call",
        "id": activity.id,
        "organization_id": activity.organization_id,
        "lead_id": activity.lead_id,
        "contact_id": activity.contact_id,
        "user_id": activity.user_id,
        "user_name": names.get(activity.user_id or ""),
        "users": [activity.user_id] if activity.user_id else [],
        "created_by": activity.created_by,
        "created_by_name": names.get(activity.created_by or ""),
        "updated_by": activity.updated_by,
        "updated_by_name": names.get(activity.updated_by or ""),
        "date_created": iso(activity.date_created),
        "date_updated": iso(activity.date_updated),
        "activity_at": iso(activity.activity_at),
        "date_answered": iso(activity.date_answered),
        "date_ended": iso(activity.date_ended),
        "direction": activity.direction,
        "status": activity.status,
        "disposition": activity.disposition,
        "duration": activity.duration or 0,
        "phone": activity.remote_phone,
        "local_phone": activity.local_phone,
        "local_phone_formatted": format_phone(activity.local_phone),
        "local_country_iso": region_of(activity.local_phone),
        "remote_phone": activity.remote_phone,
        "remote_phone_formatted": format_phone(activity.remote_phone),
        "remote_country_iso": region_of(activity.remote_phone),
        "recording_url": None if voicemail else activity.recording_url,
        "has_recording": bool(activity.recording_url) and not voicemail,
        "voicemail_url": activity.recording_url if voicemail else None,
        "voicemail_duration": (activity.duration or 0) if voicemail else 0,
        "call_method": "regular",
        "source": activity.source,
        "note": "",
        "cost": format(activity.cost.normalize(), "f") if activity.cost else None,
        "error_message": activity.error_message,
        "handled_by": activity.handled_by,
        "transcript": activity.transcript,
        "summary": activity.summary,
        "sentiment": activity.sentiment,
        "commitments": list(activity.commitments or []),
        "intelligence_status": state,
        "intelligence_note": note,
    }


def prepared_call_json(prepared: PreparedCall) -> dict[str, Any]:
    return {**prepared.preview(), "from_formatted": format_phone(prepared.from_),
            "to_formatted": format_phone(prepared.to), "problems": prepared.problems_as_dicts(), "ok": prepared.ok,
            "fingerprint": prepared.fingerprint()}
