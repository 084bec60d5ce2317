"""A workspace's activities of every kind in one timeline (Close's GET /activity/): texts and calls.

The kinds' own lists (GET /activity/sms/, /activity/call/) narrow by their own fields too; what every list shares
(ids, lead, contact, user, the two date fields: `SharedFilter`) is `narrowed`, and every list refuses a filter value it
can't hold (`refuse_unknown_choices`).
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from db.models import Activity
from tools.context import Ctx
from tools.paging import Page, PageRequest, fetch_page
from tools.problems import Invalid, Problem

# Close's `_type` names of the kinds Cody keeps, and the `type` column of each.
TYPES = {"SMS": "sms", "Call": "call"}
ORDERS = {
    "-date_created": (Activity.date_created.desc(), Activity.id.desc()),
    "date_created": (Activity.date_created.asc(), Activity.id.asc()),
    "-activity_at": (Activity.activity_at.desc(), Activity.id.desc()),
    "activity_at": (Activity.activity_at.asc(), Activity.id.asc()),
}


@dataclass(frozen=True)
class SharedFilter:
    """What every list of activities can be narrowed to; empty tuples mean no filter."""

    ids: tuple[str, ...] = ()
    lead_ids: tuple[str, ...] = ()
    contact_ids: tuple[str, ...] = ()
    user_ids: tuple[str, ...] = ()
    date_created: tuple[tuple[str, datetime], ...] = ()  # (op, when) with op one of gt, gte, lt, lte
    activity_at: tuple[tuple[str, datetime], ...] = ()


@dataclass(frozen=True)
class ActivityFilter(SharedFilter):
    """The timeline's filters: the shared ones, the kinds, and the order."""

    types: tuple[str, ...] = ()  # Close's names: SMS, Call
    order_by: str = "-date_created"


def refuse_unknown_choices(*filters: tuple[str, tuple[str, ...], tuple[str, ...]]) -> None:
    """Invalid naming each list filter (name, values asked, values allowed) that asks for a value it can't have:
    a typo would otherwise match nothing and look like an empty list."""
    problems = [Problem("invalid_choice", name, f"Not a valid choice; use {', '.join(allowed)}.")
                for name, values, allowed in filters if any(v not in allowed for v in values)]
    if problems:
        raise Invalid(problems)


def narrowed(stmt: Select, filters: SharedFilter,
             *own: tuple[InstrumentedAttribute[str], tuple[str, ...]]) -> Select:
    """The statement narrowed by the filters every activity list shares, and by a kind's `own` (column, values)."""
    for column, values in ((Activity.id, filters.ids), (Activity.lead_id, filters.lead_ids),
                           (Activity.contact_id, filters.contact_ids), (Activity.user_id, filters.user_ids), *own):
        if values:
            stmt = stmt.where(column.in_(values))
    for moment, ranges in ((Activity.date_created, filters.date_created), (Activity.activity_at, filters.activity_at)):
        for op, when in ranges:
            when = when if when.tzinfo else when.replace(tzinfo=UTC)
            stmt = stmt.where({"gt": moment > when, "gte": moment >= when, "lt": moment < when,
                               "lte": moment <= when}[op])
    return stmt


def list_activities(session: Session, ctx: Ctx, page: PageRequest, filters: ActivityFilter = ActivityFilter()) -> Page:
    """The workspace's texts and calls, newest first unless `order_by` says otherwise (then by id, so pages never
    overlap)."""
    problems = []
    if unknown := [t for t in filters.types if t not in TYPES]:
        problems.append(Problem("invalid_choice", "_type", f"{', '.join(unknown)}: not a kind of activity Cody keeps; "
                                                           f"use {', '.join(TYPES)}."))
    if filters.order_by not in ORDERS:
        problems.append(Problem("invalid_choice", "_order_by", f"Not a valid order; use {', '.join(ORDERS)}."))
    if problems:
        raise Invalid(problems)
    kinds = [TYPES[t] for t in filters.types] or list(TYPES.values())
    stmt = narrowed(select(Activity).where(Activity.organization_id == ctx.organization_id,
                                           Activity.type.in_(kinds)), filters)
    return fetch_page(session, stmt.order_by(*ORDERS[filters.order_by]), page)
