"""What a caller asks to send, and what prepare makes of it."""

import hashlib
import json
from dataclasses import asdict, dataclass, field

from pydantic import BaseModel, Field

from tools.moments import Moment
from tools.problems import Problem

SEND_STATUSES = ("draft", "scheduled", "outbox")


class Attachment(BaseModel):
    url: str = Field(max_length=2000)
    content_type: str = Field(default="image/jpeg", max_length=100)
    size: int = Field(default=0, ge=0)
    filename: str | None = Field(default=None, max_length=300)


class SendRequest(BaseModel):
    """One outbound text: to a contact or a bare number, with text or a template; on a lead, if named."""

    contact_id: str | None = None
    lead_id: str | None = Field(default=None, max_length=40)
    remote_phone: str | None = Field(default=None, max_length=64)
    local_phone: str | None = Field(default=None, max_length=64)
    text: str | None = Field(default=None, max_length=10_000)
    template_id: str | None = None
    variables: dict[str, str] = Field(default_factory=dict)
    attachments: list[Attachment] = Field(default_factory=list, max_length=50)
    status: str = "outbox"
    date_scheduled: Moment | None = None
    send_in: int | None = None
    whatsapp: bool = False


@dataclass(frozen=True)
class Prepared:
    """The exact message prepare resolved, with every problem found; no side effects were made."""

    request: SendRequest
    organization_id: str
    user_id: str | None
    contact_id: str | None
    lead_id: str | None
    to: str | None
    from_: str | None
    phone_number_id: str | None
    messaging_service_sid: str | None
    text: str
    encoding: str
    segments: int
    attachments: list[dict] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    contact_name: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def preview(self) -> dict:
        """What a person sees before confirming."""
        return {
            "contact_id": self.contact_id,
            "contact_name": self.contact_name,
            "to": self.to,
            "from": self.from_,
            "text": self.text,
            "encoding": self.encoding,
            "segments": self.segments,
            "attachments": self.attachments,
            "date_scheduled": self.request.date_scheduled.isoformat() if self.request.date_scheduled else None,
        }

    def fingerprint(self) -> str:
        """A hash of exactly what would go out, to check a confirmation against."""
        payload = json.dumps(self.preview(), sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()

    def problems_as_dicts(self) -> list[dict]:
        return [asdict(p) for p in self.problems]
