"""Query parameters every list endpoint shares."""

from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Annotated

from fastapi import Depends, Query
from pydantic import AfterValidator, BeforeValidator

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


def _date_alone(value: object) -> object:
    """A date with no time ("2026-12-07") is that day's start in UTC, as Close reads it; anything else as given."""
    if isinstance(value, str) and len(value) == 10:
        with suppress(ValueError):
            return datetime.combine(date.fromisoformat(value), time(), UTC)
    return value


def _zoned(value: datetime) -> datetime:
    """A time of day needs its zone, as in a request body: "06:05" is a different instant in every workspace."""
    if value.tzinfo is None:
        raise ValueError("needs a time zone (e.g. 2026-12-07T06:05:00Z or +00:00), or give a date alone")
    return value


# A list filter's instant: a date alone, or a date and time with its zone.
FilterMoment = Annotated[Moment, BeforeValidator(_date_alone), AfterValidator(_zoned)]


def _ranges(**bounds: datetime | None) -> Ranges:
    return tuple((op, when) for op, when in bounds.items() if when is not None)


def date_ranges(
    date_created_gt: Annotated[FilterMoment | None, Query(alias="date_created__gt")] = None,
    date_created_gte: Annotated[FilterMoment | None, Query(alias="date_created__gte")] = None,
    date_created_lt: Annotated[FilterMoment | None, Query(alias="date_created__lt")] = None,
    date_created_lte: Annotated[FilterMoment | None, Query(alias="date_created__lte")] = None,
    activity_at_gt: Annotated[FilterMoment | None, Query(alias="activity_at__gt")] = None,
    activity_at_gte: Annotated[FilterMoment | None, Query(alias="activity_at__gte")] = None,
    activity_at_lt: Annotated[FilterMoment | None, Query(alias="activity_at__lt")] = None,
    activity_at_lte: Annotated[FilterMoment | None, Query(alias="activity_at__lte")] = None,
) -> DateRanges:
    return DateRanges(
        date_created=_ranges(gt=date_created_gt, gte=date_created_gte, lt=date_created_lt, lte=date_created_lte),
        activity_at=_ranges(gt=activity_at_gt, gte=activity_at_gte, lt=activity_at_lt, lte=activity_at_lte),
    )


DateRangesDep = Annotated[DateRanges, Depends(date_ranges)]
