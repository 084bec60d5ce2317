"""Confirm, cancel and edit words, decided by code and never by the model."""

import re
from dataclasses import dataclass

# A whole message that says only yes or only no, as people say it: "yes please", "ok, send it", "no thanks".
_YES = r"(?:yes|yep|yeah|y|ok|okay|sure)"
_CONFIRM = re.compile(rf"^(?:{_YES}[,.!]?\s+)?(?:{_YES}|confirm(?:ed)?|send(?: it)?(?: now)?|go ahead|do it|looks good|"
                      r"ship it)(?:[\s,]+(?:please|pls|plz|thanks|thank you))?[.! ]*$", re.I)
_CANCEL = re.compile(r"^(?:no[,.!]?\s+)?(?:cancel(?: it| that)?|never ?mind|no|nope|don'?t send(?: it)?|forget it|"
                     r"scratch that)(?:[\s,]+(?:thanks|thank you|thx))?[.! ]*$", re.I)
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
