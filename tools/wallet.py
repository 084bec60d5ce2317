"""The workspace's prepaid wallet: a balance on the organization and a ledger of every change.

Every change is one conditional UPDATE ... RETURNING on the organization row (so two processes can never spend the
same dollars twice) plus a WalletEntry row. Nothing here commits: the caller owns the transaction.

SQLite stores NUMERIC as a double, so balances are rounded to 4 places in SQL on every change and before every
comparison; PostgreSQL's NUMERIC(12, 4) makes the rounding a no-op there.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from db.models import Organization, WalletEntry
from db.types import utcnow
from tools.context import Ctx
from tools.problems import Forbidden, Invalid, NotFound

CURRENCY = "USD"
MAX_CREDIT = Decimal(10000)
LEDGER_SIZE = 50
CENT = Decimal("0.01")


def money(amount: Decimal | float | None) -> str:
    """Dollars as a string with two decimals ("1.15", "-1.15", "0.00")."""
    return str(Decimal(str(amount or 0)).quantize(CENT, rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Wallet:
    balance: Decimal
    currency: str
    ledger: list[WalletEntry]


def balance(session: Session, organization_id: str) -> Decimal:
    value = session.scalar(select(Organization.wallet_balance).where(Organization.id == organization_id))
    if value is None:
        raise NotFound("Workspace not found.")
    return Decimal(value)


def ledger(session: Session, organization_id: str, limit: int = LEDGER_SIZE) -> list[WalletEntry]:
    """The latest entries, newest first."""
    return list(session.scalars(
        select(WalletEntry).where(WalletEntry.organization_id == organization_id)
        .order_by(WalletEntry.date_created.desc(), WalletEntry.id.desc()).limit(limit)))


def get_wallet(session: Session, ctx: Ctx) -> Wallet:
    return Wallet(balance(session, ctx.organization_id), CURRENCY, ledger(session, ctx.organization_id))


def _change(session: Session, organization_id: str, delta: Decimal, at_least: Decimal | None) -> Decimal | None:
    """Add `delta` to the balance (only while it is >= `at_least`, when given); the new balance, or None."""
    stmt = update(Organization).where(Organization.id == organization_id)
    if at_least is not None:
        stmt = stmt.where(func.round(Organization.wallet_balance, 4) >= at_least)
    stmt = (stmt.values(wallet_balance=func.round(Organization.wallet_balance + delta, 4))
            .returning(Organization.wallet_balance)
            .execution_options(synchronize_session=False))
    row = session.execute(stmt).first()
    return None if row is None else Decimal(row[0])


def _entry(session: Session, organization_id: str, amount: Decimal, balance_after: Decimal, reason: str,
           reference: str | None, user_id: str | None) -> WalletEntry:
    entry = WalletEntry(organization_id=organization_id, amount=amount, balance_after=balance_after,
                        reason=reason[:200], reference=reference, user_id=user_id, date_created=utcnow())
    session.add(entry)
    session.flush()
    return entry


def debit(session: Session, organization_id: str, amount: Decimal, reason: str, reference: str | None = None,
          user_id: str | None = None) -> bool:
    """Take `amount` from the balance if it covers it, with a ledger row; False (and nothing changed) if not."""
    amount = Decimal(amount)
    if amount < 0:
        raise ValueError("a debit is a positive amount")
    after = _change(session, organization_id, -amount, at_least=amount)
    if after is None:
        return False
    _entry(session, organization_id, -amount, after, reason, reference, user_id)
    return True


def add_credit(session: Session, organization_id: str, amount: Decimal, reason: str, reference: str | None = None,
               user_id: str | None = None) -> WalletEntry:
    """Add `amount` (a credit or a refund) with a ledger row."""
    amount = Decimal(amount)
    if amount < 0:
        raise ValueError("a credit is a positive amount")
    after = _change(session, organization_id, amount, at_least=None)
    if after is None:
        raise NotFound("Workspace not found.")
    return _entry(session, organization_id, amount, after, reason, reference, user_id)


def note(session: Session, organization_id: str, reason: str, reference: str | None = None,
         user_id: str | None = None) -> WalletEntry:
    """A ledger row that moves no money (amount 0.00, the balance as it is): something the workspace should read next
    to its charges, such as a monthly charge the balance could not pay."""
    return _entry(session, organization_id, Decimal(0), balance(session, organization_id), reason, reference, user_id)


def parse_amount(value: Any, field: str = "amount") -> Decimal:
    """A dollar amount from JSON (number or string): positive, at most MAX_CREDIT, whole cents."""
    def bad(message: str) -> Invalid:
        return Invalid.one("invalid_amount", field, message)

    if value is None or isinstance(value, bool) or not isinstance(value, int | float | str):
        raise bad("An amount in dollars is required, such as 25 or \"25.00\".")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise bad(f"{value!r} is not an amount in dollars.") from None
    if not amount.is_finite():
        raise bad(f"{value!r} is not an amount in dollars.")
    if amount <= 0:
        raise bad("The amount must be more than $0.00.")
    if amount > MAX_CREDIT:
        raise bad(f"The amount can be at most ${money(MAX_CREDIT)}.")
    if amount != amount.quantize(CENT):
        raise bad("The amount must be in whole cents.")
    return amount.quantize(CENT)


def credit(session: Session, ctx: Ctx, value: Any, reason: str | None = None, *, unpaid_allowed: bool) -> WalletEntry:
    """Add credit to the caller's workspace (admins, or members with `wallet_credit`), where this server lets them add
    it with no payment behind it (`TelephonySettings.admins_add_credit`)."""
    if not unpaid_allowed:
        raise Forbidden("Credit is added with a payment, by whoever runs this Cody (`cody admin credit`); this "
                        "server takes no credit without one (WALLET_SELF_CREDIT).")
    if not ctx.can("wallet_credit"):
        raise Forbidden("You don't have permission to add wallet credit (wallet_credit).")
    amount = parse_amount(value)
    reason = (reason or "").strip() or "Credit"
    return add_credit(session, ctx.organization_id, amount, reason, user_id=ctx.user_id)
