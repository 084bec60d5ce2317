"""Close's paging: `_skip`/`_limit`, answered as {"data": [...], "has_more": bool}, in a stable order."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from tools.problems import Invalid, Problem

MAX_LIMIT = 200
DEFAULT_LIMIT = 100
MAX_SKIP = 1_000_000_000  # beyond any real list, and within the databases' 64-bit OFFSET


@dataclass(frozen=True)
class PageRequest:
    skip: int = 0
    limit: int = DEFAULT_LIMIT

    def __post_init__(self) -> None:
        problems = []
        if self.skip < 0:
            problems.append(Problem("invalid", "_skip", "_skip must be 0 or more."))
        elif self.skip > MAX_SKIP:
            problems.append(Problem("invalid", "_skip", f"_skip must be at most {MAX_SKIP}."))
        if not 1 <= self.limit <= MAX_LIMIT:
            problems.append(Problem("invalid", "_limit", f"_limit must be between 1 and {MAX_LIMIT}."))
        if problems:
            raise Invalid(problems)


@dataclass(frozen=True)
class Page:
    items: list[Any]
    has_more: bool


def fetch_page(session: Session, stmt: Select, page: PageRequest) -> Page:
    """Run a statement that already has its order; one row more than asked tells has_more."""
    rows = list(session.scalars(stmt.offset(page.skip).limit(page.limit + 1)))
    return Page(items=rows[: page.limit], has_more=len(rows) > page.limit)
