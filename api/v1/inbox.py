"""Inbox and threads. A member claims or assigns a thread nobody has or one they have; a thread someone else has is
an admin's to reassign or unassign (403). A thread's open Inbox items follow it to whoever takes it."""

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy.orm import Session

from api.deps import CurrentCtx, SessionDep
from api.errors import FORBIDDEN
from api.v1.params import PageDep
from api.v1.shapes import iso, page_json
from db.models import InboxItem, Thread, User
from tools import inbox

router = APIRouter(tags=["inbox and threads"])


def item_json(item: InboxItem) -> dict:
    """An item; one about a business number (type "billing") has its phone_number_id and says what it is in `text`."""
    return {"id": item.id, "type": item.type, "done": item.done, "thread_id": item.thread_id,
            "activity_id": item.activity_id, "phone_number_id": item.phone_number_id, "text": item.text,
            "user_id": item.user_id, "date_created": iso(item.date_created)}


def thread_json(session: Session, thread: Thread) -> dict:
    assignee = session.get(User, thread.assignee_id) if thread.assignee_id else None
    return {"id": thread.id, "contact_id": thread.contact_id, "lead_id": thread.lead_id,
            "assignee_id": thread.assignee_id, "assignee_name": assignee.display_name if assignee else None,
            "unclaimed": thread.assignee_id is None, "status": thread.status,
            "last_activity_at": iso(thread.last_activity_at), "last_inbound_at": iso(thread.last_inbound_at)}


@router.get("/inbox/")
def list_inbox(session: SessionDep, ctx: CurrentCtx, page: PageDep, done: bool | None = None,
               type: Annotated[str | None, Query(max_length=40)] = None) -> dict:
    result = inbox.list_inbox(session, ctx, page, done, type)
    return page_json([item_json(i) for i in result.items], result.has_more)


@router.post("/inbox/{item_id}/done/")
def mark_done(item_id: str, session: SessionDep, ctx: CurrentCtx) -> dict:
    item = inbox.mark_done(session, ctx, item_id)
    session.commit()
    return item_json(item)


@router.get("/thread/")
def list_threads(session: SessionDep, ctx: CurrentCtx, page: PageDep, contact_id: str | None = None,
                 assigned_to: str | None = None, unclaimed: bool | None = None) -> dict:
    result = inbox.list_threads(session, ctx, page, contact_id, assigned_to, unclaimed)
    return page_json([thread_json(session, t) for t in result.items], result.has_more)


@router.get("/thread/{thread_id}/")
def get_thread(thread_id: str, session: SessionDep, ctx: CurrentCtx) -> dict:
    return thread_json(session, inbox.get_thread(session, ctx, thread_id))


class AssignBody(BaseModel):
    user_id: str


@router.post("/thread/{thread_id}/assign/", responses=FORBIDDEN)
def assign(thread_id: str, body: AssignBody, session: SessionDep, ctx: CurrentCtx) -> dict:
    thread = inbox.assign(session, ctx, thread_id, body.user_id)
    session.commit()
    return thread_json(session, thread)


@router.post("/thread/{thread_id}/unassign/", responses=FORBIDDEN)
def unassign(thread_id: str, session: SessionDep, ctx: CurrentCtx) -> dict:
    thread = inbox.assign(session, ctx, thread_id, None)
    session.commit()
    return thread_json(session, thread)


@router.post("/thread/{thread_id}/claim/")
def claim(thread_id: str, session: SessionDep, ctx: CurrentCtx) -> dict:
    thread = inbox.claim(session, ctx, thread_id)
    session.commit()
    return thread_json(session, thread)
