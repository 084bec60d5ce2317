"""Checks X-Twilio-Signature against PUBLIC_BASE_URL + path + query and the form as received."""

import logging
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from tools.runtime import Runtime
from tools.telephony.signing import FormPairs, is_valid, signing_token
from tools.telephony.twiml import empty_messaging_response

log = logging.getLogger("cody.webhooks")


def runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def _token(request: Request) -> str:
    state = request.app.state
    if getattr(state, "webhook_token", None) is None:
        rt: Runtime = state.runtime
        with rt.factory() as session:
            state.webhook_token = signing_token(session, rt.settings)
    return state.webhook_token


def public_url(request: Request) -> str:
    """The URL Twilio called, as the public base URL sees it (not the address behind a proxy)."""
    base = request.app.state.runtime.settings.public_base_url.rstrip("/")
    query = request.url.query
    return base + request.url.path + (f"?{query}" if query else "")


async def verified_form(request: Request) -> FormPairs:
    form = await request.form()
    pairs = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    token = getattr(request.app.state, "webhook_token", None)  # read once, then kept: no thread hop per request
    if token is None:
        # The token may need the database: never block the event loop on it (SQLite may be busy with a request
        # whose response is waiting for this very loop).
        token = await run_in_threadpool(_token, request)
    if not is_valid(token, public_url(request), pairs, request.headers.get("x-twilio-signature")):
        log.warning("refused a Twilio webhook with a missing or wrong signature", extra={"path": request.url.path})
        raise HTTPException(403, "Invalid Twilio signature.")
    return FormPairs(pairs)


TwilioForm = Annotated[FormPairs, Depends(verified_form)]


def twiml_ok() -> Response:
    return Response(empty_messaging_response(), media_type="application/xml")
