"""Drafts: one proposed action with its exact arguments; confirmed once, by its owner, before it expires."""

import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from assistant import unsend
from db.models import Activity, Draft
from db.types import utcnow
from tools.context import Ctx
from tools.messaging import Messaging, Prepared, SendRequest
from tools.messaging.calls import CallRequest, PreparedCall
from tools.problems import Conflict, Forbidden, Invalid, NotFound, Problem, ServiceError

log = logging.getLogger("cody.assistant")

EDITABLE_ARGS = {"text", "contact_id", "remote_phone", "template_id", "variables", "send_at"}
CALL_ARGS = {"contact_id", "remote_phone"}  # a call is placed now, to someone: it has nothing else


def request_from_args(args: dict) -> SendRequest:
    """The messaging request a draft's stored arguments stand for."""
    send_at = args.get("send_at")
    when = datetime.fromisoformat(send_at) if send_at else None
    return SendRequest(contact_id=args.get("contact_id"), remote_phone=args.get("remote_phone"),
                       text=args.get("text"), template_id=args.get("template_id"),
                       variables=args.get("variables") or {}, status="scheduled" if when else "outbox",
                       date_scheduled=when)


def call_request_from_args(args: dict) -> CallRequest:
    return CallRequest(contact_id=args.get("contact_id"), remote_phone=args.get("remote_phone"))


def prepare_args(session: Session, ctx: Ctx, messaging: Messaging, tool: str, args: dict) -> Prepared | PreparedCall:
    """What the draft would do, checked by the messaging service."""
    if tool == "call_contact":
        return messaging.prepare_call(session, ctx, call_request_from_args(args))
    return messaging.prepare(session, ctx, request_from_args(args))


def create_draft(session: Session, ctx: Ctx, tool: str, args: dict,
                 prepared: Prepared | PreparedCall | unsend.PreparedCancel, conversation_id: str | None,
                 ttl_minutes: int) -> Draft:
    preview, problems, digest = prepared.preview(), prepared.problems_as_dicts(), prepared.fingerprint()
    draft = Draft(organization_id=ctx.organization_id, user_id=ctx.user_id, conversation_id=conversation_id,
                  channel=ctx.channel, tool=tool, args=args, preview=preview, problems=problems, args_hash=digest,
                  state="pending", expires_at=utcnow() + timedelta(minutes=ttl_minutes))
    session.add(draft)
    session.flush()
    log.info("draft %s (%s) made for %s on %s", draft.id, tool, ctx.user_id, ctx.channel)
    return draft


def get_draft(session: Session, ctx: Ctx, draft_id: str) -> Draft:
    draft = session.scalar(select(Draft).where(Draft.id == draft_id, Draft.organization_id == ctx.organization_id))
    if draft is None:
        raise NotFound("Draft not found.")
    return draft


def _owned_pending(session: Session, ctx: Ctx, draft_id: str, action: str) -> Draft:
    draft = get_draft(session, ctx, draft_id)
    if draft.user_id != ctx.user_id:
        raise Forbidden("This draft belongs to another user; only they can confirm, edit or cancel it.")
    if draft.state == "pending" and draft.expires_at <= utcnow():
        _move(session, draft, "expired")
    if draft.state != "pending":
        raise Conflict(settled(draft, action))
    return draft


_TOO_LATE = {"confirm": "", "cancel": ", so it can't be canceled", "edit": ", so it can't be changed"}


def settled(draft: Draft, action: str) -> str:
    """Why `action` (confirm, cancel or edit) can't be done to a draft no longer pending, said by what became of it:
    sent (or scheduled, or placed for a call), being sent now, canceled, expired, or failed with its error."""
    call, undo, late = draft.tool == "call_contact", draft.tool == unsend.TOOL, _TOO_LATE[action]
    scheduled = bool((draft.args or {}).get("send_at"))
    if draft.state == "executed":
        if undo:
            return "That text was already canceled; it's kept as a draft."
        if call:
            return f"That call was already placed{late}."
        if scheduled:
            return f"That was already scheduled{late}." + (" To stop it, ask me to cancel the text."
                                                          if action == "cancel" else "")
        return f"That was already sent{late}."
    if draft.state == "confirmed":
        being = ("That call is being placed now" if call else "That text is being canceled now" if undo
                 else "That is being scheduled now" if scheduled else "That is being sent now")
        return f"{being}{late}."
    if draft.state == "canceled":
        if undo:
            return "That was dropped; the text still goes out. Ask Cody again to cancel it."
        return "This draft was canceled; nothing was sent."
    if draft.state == "expired":
        if undo:
            return "This draft expired; the text still goes out. Ask Cody again to cancel it."
        return "This draft is expired; nothing was sent. Ask Cody again to make a new one."
    if draft.state == "failed":
        what = "That call couldn't be placed" if call else ("That text couldn't be canceled" if undo
                                                            else "That couldn't be sent")
        error = (draft.error or "it failed").rstrip()
        return f"{what}: {error}" + ("" if error.endswith((".", "!", "?")) else ".")
    return f"This draft is {draft.state}; nothing was sent. Ask Cody again to make a new one."


def _move(session: Session, draft: Draft, state: str, same_args: bool = False, **values: object) -> bool:
    """Move the draft from pending to `state` with one conditional UPDATE, committed, and read it back.

    False when another request moved it first (confirmed, canceled, expired), or, with `same_args`, changed its
    arguments since this one read them: nothing is written then, and `draft` shows what the other request left.
    """
    still = [Draft.id == draft.id, Draft.state == "pending"]
    if same_args:
        still.append(Draft.args_hash == draft.args_hash)
    moved = session.execute(update(Draft).where(*still).values(state=state, date_updated=utcnow(), **values)
                            .execution_options(synchronize_session=False)).rowcount == 1
    if moved:
        session.commit()
    else:
        session.rollback()
    session.refresh(draft)
    return moved


def _lost(draft: Draft, action: str) -> Conflict:
    """Why `action` (confirm, cancel or edit) did nothing: the request that got to the draft first decided it."""
    if draft.state in ("confirmed", "executed"):
        done = {"confirm": "is already being confirmed; nothing more was sent.",
                "cancel": "was already confirmed; nothing was canceled.",
                "edit": "was already confirmed; it can't be changed now."}[action]
        return Conflict(f"This draft {done}")
    if draft.state == "pending":
        return Conflict("This draft was changed meanwhile; look at it again before changing it.")
    return Conflict(settled(draft, action))


def confirm(session: Session, ctx: Ctx, messaging: Messaging, draft_id: str) -> tuple[Draft, Activity]:
    """Execute exactly what was previewed, once."""
    draft = _owned_pending(session, ctx, draft_id, "confirm")
    if draft.problems:
        raise Invalid([Problem(**p) for p in draft.problems])
    if not _move(session, draft, "confirmed"):
        raise _lost(draft, "confirm")
    run_ctx = Ctx(ctx.organization_id, ctx.user_id, ctx.channel, idempotency_key=f"draft:{draft.id}",
                  permissions=ctx.permissions, role=ctx.role)
    try:
        activity = _execute(session, run_ctx, messaging, draft)
    except ServiceError as exc:
        session.rollback()
        _finish(session, draft, "failed", error=exc.message)
        raise
    _finish(session, draft, "executed", activity_id=activity.id)
    log.info("draft %s confirmed by %s on %s: activity %s", draft.id, ctx.user_id, ctx.channel, activity.id)
    return draft, activity


def _execute(session: Session, ctx: Ctx, messaging: Messaging, draft: Draft) -> Activity:
    """Do what the draft says, checked against its hash: a send, a call, or a waiting text canceled."""
    if draft.tool == "call_contact":
        return messaging.dial(session, ctx, call_request_from_args(draft.args), draft.args_hash)
    if draft.tool == unsend.TOOL:
        return unsend.execute(session, ctx, messaging, draft.args["activity_id"], draft.args_hash)
    return messaging.execute(session, ctx, request_from_args(draft.args), draft.args_hash)


def cancel(session: Session, ctx: Ctx, draft_id: str) -> Draft:
    """Drop a pending draft; one that a confirm claimed since it was read stays confirmed (Conflict)."""
    draft = _owned_pending(session, ctx, draft_id, "cancel")
    if not _move(session, draft, "canceled"):
        raise _lost(draft, "cancel")
    log.info("draft %s canceled by %s on %s", draft.id, ctx.user_id, ctx.channel)
    return draft


def edit(session: Session, ctx: Ctx, messaging: Messaging, draft_id: str, changes: dict, ttl_minutes: int) -> Draft:
    """Validate new arguments and prepare again; the preview, problems and hash follow the new arguments.

    Saved only if the draft is still pending with the arguments read here: an edit never changes a draft a confirm
    claimed, nor overwrites another edit it did not see (Conflict).
    """
    draft = _owned_pending(session, ctx, draft_id, "edit")
    if draft.tool == unsend.TOOL:
        raise Invalid.one("not_editable", "args", "Canceling a text has nothing to change; confirm it, or say no "
                                                  "to keep the text as it is.")
    unknown = set(changes) - EDITABLE_ARGS
    if unknown:
        raise Invalid([Problem("invalid", f"args.{k}", f"{k} can't be changed on a draft.") for k in sorted(unknown)])
    if draft.tool == "call_contact" and (fixed := sorted(set(changes) - CALL_ARGS)):
        raise Invalid.one("not_editable", f"args.{fixed[0]}", "A call has no words, template or send time to change; "
                                                              "it is placed now, to the person it names.")
    args = {**draft.args, **changes}
    if "text" in changes and "template_id" not in changes and args.get("template_id"):
        args.update(template_id=None, variables={})  # new words replace the template's: they are what goes out now
    try:
        prepared = prepare_args(session, ctx, messaging, draft.tool, args)
    except ValueError as exc:
        raise Invalid.one("invalid", "args", f"Those changes aren't valid: {exc}") from None
    if not _move(session, draft, "pending", same_args=True, args=args, preview=prepared.preview(),
                 problems=prepared.problems_as_dicts(), args_hash=prepared.fingerprint(),
                 expires_at=utcnow() + timedelta(minutes=ttl_minutes)):
        raise _lost(draft, "edit")
    log.info("draft %s edited by %s on %s", draft.id, ctx.user_id, ctx.channel)
    return draft


def pending_in_conversation(session: Session, ctx: Ctx, conversation_id: str) -> list[Draft]:
    """The user's drafts in a conversation still waiting for a yes or a no (not expired), oldest first."""
    return list(session.scalars(select(Draft).where(
        Draft.conversation_id == conversation_id, Draft.organization_id == ctx.organization_id,
        Draft.user_id == ctx.user_id, Draft.state == "pending", Draft.expires_at > utcnow(),
    ).order_by(Draft.date_created, Draft.id)))


def _finish(session: Session, draft: Draft, state: str, activity_id: str | None = None, error: str | None = None) -> None:
    draft.state = state
    draft.activity_id = activity_id or draft.activity_id
    draft.error = error
    session.commit()
