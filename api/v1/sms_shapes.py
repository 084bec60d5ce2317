"""SMS activities and SMS templates in Close's JSON shapes, and the request bodies Close's clients send."""

from typing import Any

from pydantic import BaseModel, Field

from api.v1.shapes import iso
from db.models import Activity, SmsTemplate
from tools.messaging import Attachment, SendRequest
from tools.messaging.service import LogRequest
from tools.moments import Moment
from tools.phones import format_phone, region_of

CREATE_STATUSES = ("inbox", "draft", "scheduled", "outbox", "sent")
LOGGED_STATUSES = ("inbox", "sent")


class SmsIn(BaseModel):
    """POST /activity/sms/ (Close's CreateSMSActivity, plus `variables` for a template and `send_in`)."""

    status: str = Field(max_length=20)
    direction: str | None = Field(default=None, max_length=20)
    contact_id: str | None = Field(default=None, max_length=40)
    lead_id: str | None = Field(default=None, max_length=40)
    remote_phone: str | None = Field(default=None, max_length=64)
    local_phone: str | None = Field(default=None, max_length=64)
    text: str | None = Field(default=None, max_length=10_000)
    template_id: str | None = Field(default=None, max_length=40)
    variables: dict[str, str] = Field(default_factory=dict)
    attachments: list[Attachment] | None = Field(default=None, max_length=50)
    date_scheduled: Moment | None = None
    send_in: int | None = None
    activity_at: Moment | None = None
    source: str | None = Field(default=None, max_length=20)

    def send_request(self) -> SendRequest:
        return SendRequest(contact_id=self.contact_id, lead_id=self.lead_id, remote_phone=self.remote_phone,
                           local_phone=self.local_phone, text=self.text, template_id=self.template_id,
                           variables=self.variables,
                           attachments=self.attachments or [], status=self.status,
                           date_scheduled=self.date_scheduled, send_in=self.send_in)

    def log_request(self) -> LogRequest:
        return LogRequest(status=self.status, direction=self.direction, contact_id=self.contact_id,
                          lead_id=self.lead_id, remote_phone=self.remote_phone, local_phone=self.local_phone,
                          text=self.text, template_id=self.template_id, variables=self.variables,
                          attachments=self.attachments or [], activity_at=self.activity_at,
                          source=self.source or "External")


class SmsPatch(BaseModel):
    """PUT /activity/sms/{id}/: a patch; fields left out keep their value. Unknown fields are ignored."""

    status: str | None = Field(default=None, max_length=20)
    contact_id: str | None = Field(default=None, max_length=40)
    lead_id: str | None = Field(default=None, max_length=40)
    remote_phone: str | None = Field(default=None, max_length=64)
    local_phone: str | None = Field(default=None, max_length=64)
    text: str | None = Field(default=None, max_length=10_000)
    template_id: str | None = Field(default=None, max_length=40)
    variables: dict[str, str] | None = None
    attachments: list[Attachment] | None = Field(default=None, max_length=50)
    date_scheduled: Moment | None = None
    send_in: int | None = None

    def send_request(self) -> SendRequest:
        """The patch as a SendRequest whose `model_fields_set` names exactly the fields given (nulls dropped
        where a null means nothing: status, variables, attachments)."""
        given = {name: getattr(self, name) for name in self.model_fields_set}
        for name in ("status", "variables", "attachments"):
            if given.get(name, ...) is None:
                del given[name]
        return SendRequest(**given)


def sms_json(activity: Activity, names: dict[str, str] | None = None) -> dict[str, Any]:
    names = names or {}
    return {
        "_type": "SMS",
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
        "date_scheduled": iso(activity.date_scheduled),
        "date_sent": iso(activity.date_sent),
        "direction": activity.direction,
        "status": activity.status,
        "text": activity.text,
        "template_id": activity.template_id,
        "local_phone": activity.local_phone,
        "local_phone_formatted": format_phone(activity.local_phone),
        "local_country_iso": region_of(activity.local_phone),
        "remote_phone": activity.remote_phone,
        "remote_phone_formatted": format_phone(activity.remote_phone),
        "remote_country_iso": region_of(activity.remote_phone),
        "error_message": activity.error_message,
        "cost": _cost(activity),
        "source": activity.source,
        "attachments": [_attachment(a) for a in activity.attachments or []],
        "encoding": activity.encoding,
        "segments": activity.segments,
    }


def _cost(activity: Activity) -> str | None:
    if activity.cost is None:
        return None
    return format(activity.cost.normalize(), "f") if activity.cost else "0"


def _attachment(item: dict[str, Any]) -> dict[str, Any]:
    return {"url": item.get("url"), "filename": item.get("filename"), "size": item.get("size"),
            "content_type": item.get("content_type")}


def template_json(template: SmsTemplate) -> dict[str, Any]:
    return {
        "id": template.id,
        "organization_id": template.organization_id,
        "name": template.name,
        "text": template.text,
        "is_shared": template.is_shared,
        "status": template.status,
        "attachments": [],
        "user_id": template.user_id,
        "created_by": template.created_by,
        "updated_by": template.updated_by,
        "date_created": iso(template.date_created),
        "date_updated": iso(template.date_updated),
    }
