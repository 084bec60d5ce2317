"""Datetimes a caller may give: ones Cody can store, convert to UTC and step through quiet hours without overflow."""

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9998, 1, 1, tzinfo=UTC)  # days from datetime.max: a time zone or a day of quiet hours still fits


def storable(value: datetime) -> datetime:
    """The value unchanged (naive stays naive: callers that need a zone say so), or ValueError when out of range."""
    try:
        utc = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        raise ValueError(f"must be a date from {EARLIEST.year} to {LATEST.year - 1}")
    return value


Moment = Annotated[datetime, AfterValidator(storable)]
