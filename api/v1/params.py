"""Query parameters every list endpoint shares."""

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query

from tools.moments import Moment
from tools.paging import DEFAULT_LIMIT, PageRequest

Ranges = tuple[tuple[str, datetime], ...]


def page_request(
    skip: Annotated[int, Query(alias="_skip")] = 0,
    limit: Annotated[int, Query(alias="_limit")] = DEFAULT_LIMIT,
) -> PageRequest:
    return PageRequest(skip=skip, limit=limit)


PageDep = Annotated[PageRequest, Depends(page_request)]
FieldsQuery = Annotated[str | None, Query(alias="_fields", max_length=2000)]


def id_list(value: str | None) -> tuple[str, ...]:
    """Close's comma-separated id filters."""
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


@dataclass(frozen=True)
class DateRanges:
    """The activity lists' date filters, as (operator, instant) pairs."""

    date_created: Ranges
    activity_at: Ranges


def _ranges(**bounds: datetime | None) -> Ranges:
    return tuple((op, when) for op, when in bounds.items() if when is not None)


def date_ranges(
    date_created_gt: Annotated[Moment | None, Query(alias="date_created__gt")] = None,
    date_created_gte: Annotated[Moment | None, Query(alias="date_created__gte")] = None,
    date_created_lt: Annotated[Moment | None, Query(alias="date_created__lt")] = None,
    date_created_lte: Annotated[Moment | None, Query(alias="date_created__lte")] = None,
    activity_at_gt: Annotated[Moment | None, Query(alias="activity_at__gt")] = None,
    activity_at_gte: Annotated[Moment | None, Query(alias="activity_at__gte")] = None,
    activity_at_lt: Annotated[Moment | None, Query(alias="activity_at__lt")] = None,
    activity_at_lte: Annotated[Moment | None, Query(alias="activity_at__lte")] = None,
) -> DateRanges:
    return DateRanges(
        date_created=_ranges(gt=date_created_gt, gte=date_created_gte, lt=date_created_lt, lte=date_created_lte),
        activity_at=_ranges(gt=activity_at_gt, gte=activity_at_gte, lt=activity_at_lt, lte=activity_at_lte),
    )


DateRangesDep = Annotated[DateRanges, Depends(date_ranges)]
