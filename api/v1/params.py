"""Query parameters every list endpoint shares."""

from typing import Annotated

from fastapi import Depends, Query

from tools.paging import DEFAULT_LIMIT, PageRequest


def page_request(
    skip: Annotated[int, Query(alias="_skip")] = 0,
    limit: Annotated[int, Query(alias="_limit")] = DEFAULT_LIMIT,
) -> PageRequest:
    return PageRequest(skip=skip, limit=limit)


PageDep = Annotated[PageRequest, Depends(page_request)]
FieldsQuery = Annotated[str | None, Query(alias="_fields", max_length=2000)]
