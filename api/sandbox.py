"""The sandbox panel's API: simulate a contact's reply (only with the sandbox line)."""

from fastapi import APIRouter, Request

from api.deps import CurrentCtx, SessionDep
from tools.simulate import SimulatedCall, SimulatedSms, simulate_inbound_call, simulate_inbound_sms

router = APIRouter(tags=["sandbox"])


@router.post("/sms")
def simulate_sms(body: SimulatedSms, request: Request, session: SessionDep, ctx: CurrentCtx) -> dict:
    sid = simulate_inbound_sms(session, ctx, request.app.state.runtime.provider, body)
    return {"message_sid": sid}


@router.post("/call")
def simulate_call(body: SimulatedCall, request: Request, session: SessionDep, ctx: CurrentCtx) -> dict:
    sid = simulate_inbound_call(session, ctx, request.app.state.runtime.provider, body)
    return {"call_sid": sid}
