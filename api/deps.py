"""Dependency aliases: SessionDep for a database session, CurrentCtx for the authenticated caller."""

import base64
import binascii
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from tools.context import Ctx
from tools.workspaces import authenticate


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.factory() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def api_key_from_header(header: str | None) -> str | None:
    """The key from `Basic base64(key:)` or `Bearer key`, or None."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    value = value.strip()
    if scheme == "bearer":
        return value or None
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.split(":", 1)[0] or None
    return None


def current_ctx(request: Request, session: SessionDep) -> Ctx:
    key = api_key_from_header(request.headers.get("authorization"))
    if key is None:
        raise HTTPException(401, "Authentication required: send your API key with Basic or Bearer auth.",
                            headers={"WWW-Authenticate": 'Basic realm="Cody"'})
    ctx = authenticate(session, key)
    if ctx is None:
        raise HTTPException(401, "Invalid API key.", headers={"WWW-Authenticate": 'Basic realm="Cody"'})
    request.state.ctx = ctx
    return ctx


CurrentCtx = Annotated[Ctx, Depends(current_ctx)]
