"""Confirm, cancel and edit words, decided by code and never by the model.

An edit is new words ("change it to say see you at 8", "edit it to: running late") or a new time: "change it to
8pm" when the words after "change it to" are only a time phrase, and "make it 8pm instead", "send it tomorrow at 9
instead", "change the time to 8pm", "schedule it for 8am", "move it to 9am" for its send time. Quoted words and
words after a colon are always words ("change it to: 8pm").
"""

import re
from dataclasses import dataclass

from assistant.timephrases import PHRASE

# A whole message that says only yes or only no, as people say it: "yes please", "ok, send it", "no thanks".
_YES = r"(?:yes|yep|yeah|y|ok|okay|sure)"
_CONFIRM = re.compile(rf"^(?:{_YES}[,.!]?\s+)?(?:{_YES}|confirm(?:ed)?|send(?: it)?(?: now)?|go ahead|do it|looks good|"
                      r"ship it)(?:[\s,]+(?:please|pls|plz|thanks|thank you))?[.! ]*$", re.I)
_CANCEL = re.compile(r"^(?:(?:no|(?:oh\s+)?wait|actually|hold on|oops)[,.!]?\s+)?(?:cancel(?: it| that| this)?|"
                     r"never ?mind|no|nope|don'?t send(?: it| that)?|forget it|scratch that)"
                     r"(?:[\s,]+(?:please|pls|thanks|thank you|thx))?[.! ]*$", re.I)
_IT = r"(?:it|this|that)"
_POLITE_END = r"(?:[\s,]+(?:please|pls|thanks|thank you))?[.! ]*"
_INSTEAD = r"(?:,?\s+instead)?"
# New words, whatever they say: "change it to say hi", "edit it to say: yes", "make it say hi", "change the text to".
_SAY = re.compile(rf"^(?:change|edit|update|make) {_IT}(?:\s+to)?\s+say\b\s*:?\s*(?P<text>.+)$", re.I | re.S)
_WORDS = re.compile(r"^(?:change|edit|update|make) the (?:text|message|words|wording) to\b\s*:?\s*(?P<text>.+)$",
                    re.I | re.S)
# "change it to ...": new words, or a new time when that is all it says.
_TO = re.compile(rf"^(?:change|edit|update) {_IT} to\b\s*(?P<colon>:)?\s*(?P<text>.+)$", re.I | re.S)
_TO_TIME = re.compile(rf"(?P<when>{PHRASE}){_INSTEAD}{_POLITE_END}", re.I)
# A new send time, said as one.
_SEND_TIME = re.compile(rf"^(?:make {_IT}(?: for)?|(?:change|make|set|switch|move) the (?:send(?:ing)? |delivery )?"
                        rf"time to|(?:re)?schedule {_IT}(?: for| to| at)?|(?:move|push) {_IT} to|"
                        rf"send {_IT}(?: at| on)?|(?:postpone|delay) {_IT}(?: to| until| till)?)"
                        rf"\s+(?P<when>{PHRASE}){_INSTEAD}{_POLITE_END}$", re.I)


@dataclass(frozen=True)
class Control:
    action: str  # "confirm", "cancel", "edit" (new words) or "time" (a new time)
    text: str | None = None  # edit: the new words; time: the time phrase as said ("8pm", "tomorrow at 9")
    send_time: bool = False  # time: said of the send time ("schedule it for 8am"), never of a time in a template


def control_of(text: str) -> Control | None:
    stripped = text.strip()
    if _CONFIRM.match(stripped):
        return Control("confirm")
    if _CANCEL.match(stripped):
        return Control("cancel")
    if match := _SEND_TIME.match(stripped):
        return Control("time", _time(match.group("when")), send_time=True)
    if match := (_SAY.match(stripped) or _WORDS.match(stripped)):
        return Control("edit", _unquoted(match.group("text")))
    if match := _TO.match(stripped):
        words = match.group("text").strip()
        if not match.group("colon") and (timed := _TO_TIME.fullmatch(words)):
            return Control("time", _time(timed.group("when")))
        return Control("edit", _unquoted(words))
    return None


def _time(phrase: str) -> str:
    """The time phrase as said, without a sentence's full stop ("6pm." is "6pm"; "6 p.m." stays)."""
    return phrase if re.search(r"[ap]\.m\.$", phrase, re.I) else phrase.rstrip(".")


def _unquoted(text: str) -> str:
    return text.strip().strip('"“”')
