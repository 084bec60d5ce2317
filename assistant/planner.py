"""Planners turn one user turn into intents; which one runs is configuration."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from assistant.intents import Intent, ReadIntent


@dataclass(frozen=True)
class Turn:
    """One user turn and what a planner may know: who, where, when. Never the contact book."""

    text: str
    now: datetime
    user_name: str
    organization_name: str
    timezone: str


Reader = Callable[[ReadIntent], str]


class Planner(Protocol):
    name: str

    def plan(self, turn: Turn, read: Reader) -> list[Intent]: ...


class OfflinePlanner:
    """Deterministic parsing of the common commands; works with no model at all."""

    name = "offline"

    def plan(self, turn: Turn, read: Reader) -> list[Intent]:
        from assistant.offline import plan

        return [plan(turn.text, turn.now)]
