"""The workspace's wallet: balance and latest ledger entries; admins (or `wallet_credit`) add credit."""

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from api.deps import CurrentCtx, SessionDep
from api.errors import FORBIDDEN
from api.v1.shapes import iso
from db.models import WalletEntry
from tools import wallet

router = APIRouter(tags=["wallet"])


def entry_json(entry: WalletEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "amount": wallet.money(entry.amount),
        "balance_after": wallet.money(entry.balance_after),
        "reason": entry.reason,
        "reference": entry.reference,
        "user_id": entry.user_id,
        "date_created": iso(entry.date_created),
    }


def wallet_json(view: wallet.Wallet) -> dict[str, Any]:
    return {"balance": wallet.money(view.balance), "currency": view.currency,
            "ledger": [entry_json(e) for e in view.ledger]}


class CreditIn(BaseModel):
    amount: Any = None  # dollars, as a number or a string; checked by tools.wallet.parse_amount
    reason: str | None = Field(default=None, max_length=200)


@router.get("/wallet/")
def get_wallet(session: SessionDep, ctx: CurrentCtx) -> dict:
    return wallet_json(wallet.get_wallet(session, ctx))


@router.post("/wallet/credit/", responses=FORBIDDEN)
def credit(body: CreditIn, request: Request, session: SessionDep, ctx: CurrentCtx) -> dict:
    """Add credit; answers the wallet as GET /wallet/ does, the new entry first in the ledger."""
    wallet.credit(session, ctx, body.amount, body.reason,
                  unpaid_allowed=request.app.state.runtime.messaging.settings.admins_add_credit)
    session.commit()
    return wallet_json(wallet.get_wallet(session, ctx))
