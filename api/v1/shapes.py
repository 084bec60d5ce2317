"""Rows as Close's JSON shapes."""

from datetime import datetime
from typing import Any

from db.models import Contact, Lead
from tools.phones import format_phone


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def contact_json(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.id,
        "organization_id": contact.organization_id,
        "lead_id": contact.lead_id,
        "name": contact.name,
        "display_name": contact.name,
        "title": contact.title,
        "phones": [{"phone": p.phone, "phone_formatted": format_phone(p.phone), "type": p.type} for p in contact.phones],
        "emails": [{"email": e.email, "type": e.type} for e in contact.emails],
        **custom_json(contact.custom),
        "do_not_call": contact.do_not_call,
        "date_created": iso(contact.date_created),
        "date_updated": iso(contact.date_updated),
        "created_by": contact.created_by,
        "updated_by": contact.updated_by,
    }


def custom_json(custom: dict[str, Any] | None) -> dict[str, Any]:
    """Custom fields as Close answers them: each that has a value as `custom.FIELD_ID`, and the (deprecated)
    `custom` dict of them all."""
    values = custom or {}
    return {"custom": values, **{f"custom.{k}": v for k, v in values.items() if v is not None}}


def lead_json(lead: Lead) -> dict[str, Any]:
    return {
        "id": lead.id,
        "organization_id": lead.organization_id,
        "name": lead.name,
        "display_name": lead.name,
        "description": lead.description,
        "url": lead.url,
        **custom_json(lead.custom),
        "contacts": [contact_json(c) for c in lead.contacts],
        "date_created": iso(lead.date_created),
        "date_updated": iso(lead.date_updated),
        "created_by": lead.created_by,
        "updated_by": lead.updated_by,
    }


def page_json(items: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    return {"data": items, "has_more": has_more}


def select_fields(item: dict[str, Any], fields: str | None) -> dict[str, Any]:
    """Close's `_fields`: keep only the named keys when asked; `custom` names every custom field."""
    if not fields:
        return item
    wanted = {f.strip() for f in fields.split(",") if f.strip()}
    every_custom = "custom" in wanted
    return {k: v for k, v in item.items() if k in wanted or (every_custom and k.startswith("custom."))}
