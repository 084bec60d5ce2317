"""Confirm, cancel and edit words, decided by code and never by the model."""

import re
from dataclasses import dataclass

_CONFIRM = re.compile(r"^(yes|yep|yeah|y|ok|okay|sure|confirm(ed)?|send( it)?|send it now|yes,? send( it)?|"
                      r"go ahead|do it|looks good|ship it)[.! ]*$", re.I)
_CANCEL = re.compile(r"^(cancel( it| that)?|never ?mind|no|nope|don'?t send( it)?|forget it|scratch that)[.! ]*$", re.I)
_EDIT = re.compile(r"^(?:change|edit|make|update) it (?:to|say|to say)\s*:?\s*(?P<text>.+)$", re.I | re.S)


@dataclass(frozen=True)
class Control:
    action: str
    text: str | None = None


def control_of(text: str) -> Control | None:
    stripped = text.strip()
    if _CONFIRM.match(stripped):
        return Control("confirm")
    if _CANCEL.match(stripped):
        return Control("cancel")
    match = _EDIT.match(stripped)
    if match:
        return Control("edit", match.group("text").strip().strip('"“”'))
    return None
