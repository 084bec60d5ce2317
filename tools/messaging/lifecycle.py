"""SMS statuses and the moves between them (DESIGN.md, SMS lifecycle)."""

# Once a message is sending, its status only moves up this ladder; `error` and `delivered` are final.
RANK = {"sending": 1, "sent": 2, "delivered": 3, "error": 3}

# Twilio's MessageStatus -> ours; statuses not listed change nothing.
CARRIER_STATUS = {
    "sent": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "undelivered": "error",
    "failed": "error",
}

CANCELLABLE = ("scheduled", "outbox")
EDITABLE = ("draft",)


def may_advance(current: str, new: str) -> bool:
    return current in RANK and new in RANK and RANK[new] > RANK[current]


def earlier_than(new: str) -> list[str]:
    """Statuses a carrier update to `new` may replace."""
    return [s for s, r in RANK.items() if r < RANK[new]]
