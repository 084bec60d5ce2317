"""Confirm, cancel and edit words, decided by code and never by the model.

An edit is new words ("change it to say see you at 8", "edit it to: running late") or a new time: "change it to
8pm" when the words after "change it to" are only a time ("8pm", "eight pm", "8:00", "8 o'clock", or a bare "8",
which the assistant reads against the draft), "make it 8pm instead" and "change the time to 8pm" for the draft's time
(a template's time when it has one and no send time, else the send time), and "send it tomorrow at 9 instead",
"schedule it for 8am", "move it to 9am" for its send time. Quoted words and words after a colon are always words
("change it to: 8pm"). "Send it now" is a yes that sends now, whatever send time the draft had. "add 'see you soon'"
(or "add: see you soon") adds words at the end; unquoted ("add John") it is neither, as it may mean a person.
"""

import re
from dataclasses import dataclass

from assistant.timephrases import HOUR_WORD, MINUTE_WORD, PHRASE, in_digits

# A whole message that says only yes or only no, as people say it: "yes please", "ok, send it", "no thanks".
_YES = r"(?:yes|yep|yup|yeah|yea|y|ok|okay|k|sure|sure thing|👍)"
_CONFIRM = re.compile(rf"^(?:{_YES}[,.!]?\s+)?(?:{_YES}|confirm(?:ed)?|send(?: it)?(?: now)?|go ahead|do it|looks good|"
                      r"sounds good|perfect|ship it)(?:[\s,]+(?:please|pls|plz|thanks|thank you))?[.! ]*$", re.I)
_CANCEL = re.compile(r"^(?:(?:no|(?:oh\s+)?wait|actually|hold on|oops)[,.!]?\s+)?(?:cancel(?: it| that| this)?|"
                     r"never ?mind|no|nope|nah|no way|stop|don'?t(?: send(?: it| that)?)?|do not send(?: it| that)?|"
                     r"forget it|scratch that|👎)"
                     r"(?:[\s,]+(?:please|pls|thanks|thank you|thx))?[.! ]*$", re.I)
_IT = r"(?:it|this|that)"
_SEND_NOW = re.compile(rf"^(?:{_YES}[,.!]?\s+)?send(?: {_IT})? (?:right )?now(?:,?\s+instead)?"
                       r"(?:[\s,]+(?:please|pls|plz|thanks|thank you))?[.! ]*$", re.I)
_POLITE_END = r"(?:[\s,]+(?:please|pls|thanks|thank you))?[.! ]*"
_INSTEAD = r"(?:,?\s+instead)?"
# New words, whatever they say: "change it to say hi", "edit it to say: yes", "make it say hi", "change the text to".
_SAY = re.compile(rf"^(?:change|edit|update|make) {_IT}(?:\s+to)?\s+say\b\s*:?\s*(?P<text>.+)$", re.I | re.S)
_WORDS = re.compile(r"^(?:change|edit|update|make) the (?:text|message|words|wording) to\b\s*:?\s*(?P<text>.+)$",
                    re.I | re.S)
_SAY_ALONE = re.compile(r"say\s*:?", re.I)
# Words to add at the end, quoted or after a colon, so that "add John" (a person?) is not read as words:
# "add 'see you soon'", "add: see you soon", "also add “bring the keys” at the end".
_ADD = re.compile(r"^(?:(?:and|also)\s+)?(?:add|append)(?:\s+(?:on|at\s+the\s+end))?\s*"
                  r"(?::\s*(?P<after_colon>.+)|(?P<quoted>([\"'‘“]).+[\"'’”]))"
                  r"(?:\s+(?:at\s+the\s+end|to\s+(?:it|the\s+(?:text|message))))?[.! ]*$", re.I | re.S)
# "change it to ...": new words, or a new time when that is all it says.
_TO = re.compile(rf"^(?:change|edit|update) {_IT} to\b\s*(?P<colon>:)?\s*(?P<text>.+)$", re.I | re.S)
# A clock said without a day: "8", "8:30", "8pm", "8 o'clock", "at 8" (number words are made digits first).
_CLOCK = re.compile(r"(?:at\s+|@\s*)?(?P<hour>[01]?\d|2[0-3])(?::(?P<minute>[0-5]\d))?"
                    r"(?:\s*(?P<ampm>[ap])\.?\s*m\.?|\s*o['’]?clock)?", re.I)
_WHEN = rf"(?:{PHRASE}|{_CLOCK.pattern})"
_TO_TIME = re.compile(rf"(?P<when>{_WHEN}){_INSTEAD}{_POLITE_END}", re.I)
# A new send time, said as one.
_SEND_TIME = re.compile(rf"^(?:(?:change|make|set|switch|move) the (?:send(?:ing)? |delivery )time to|"
                        rf"(?:re)?schedule {_IT}(?: for| to| at)?|(?:move|push) {_IT} to|"
                        rf"send {_IT}(?: at| on)??|(?:postpone|delay) {_IT}(?: to| until| till)?)"
                        rf"\s+(?P<when>{_WHEN}){_INSTEAD}{_POLITE_END}$", re.I)
# The draft's time, said as one: a template's time when it has one and no send time, else the send time.
_THE_TIME = re.compile(rf"^(?:make {_IT}(?: for)?|(?:change|make|set|switch|move) the time to)"
                       rf"\s+(?P<when>{_WHEN}){_INSTEAD}{_POLITE_END}$", re.I)
# A change said with a yes or a no first: "yes but at 7", "ok, change the time to 8pm", "no, make it 8pm instead",
# "actually, change it to say hi". The change is made and shown; only a later yes sends it.
_BUT = re.compile(rf"^(?:{_YES}|no|nope|actually|wait|oh wait|hmm)[,.!]?\s+(?:but\s+)?(?P<rest>\S.*)$", re.I | re.S)
_SPOKEN_CLOCK = re.compile(rf"\b{HOUR_WORD}(?:[\s-]+{MINUTE_WORD})?(?=\s*(?:[ap]\.?\s*m\b\.?|o['’]?clock\b|$|[\s,.!]))",
                           re.I)


@dataclass(frozen=True)
class Control:
    action: str  # "confirm", "cancel", "edit" (new words), "add" (words to add at the end) or "time" (a new time)
    text: str | None = None  # edit and add: the words; time: the time phrase as said ("8pm", "tomorrow at 9")
    send_time: bool = False  # time: said of the send time ("schedule it for 8am"), never of a time in a template
    the_time: bool = False  # time: said of "the time" ("make it 8pm instead"): a template's time unless it is scheduled
    now: bool = False  # confirm: "send it now", so any send time the draft had goes


def control_of(text: str) -> Control | None:
    stripped = text.strip()
    if (control := _control(stripped)) is not None:
        return control
    return _change_after_yes_or_no(match["rest"]) if (match := _BUT.match(stripped)) else None


def _change_after_yes_or_no(rest: str) -> Control | None:
    """The change in "yes but ...": any change, or a time alone ("at 7", "8pm", "tomorrow at 9"), read as "the
    time" ("make it 7 instead"). A second yes or no ("no, send it") is neither."""
    if (control := _control(rest)) is not None:
        return control if control.action in ("edit", "add", "time") else None
    if when := _TO_TIME.fullmatch(_digits(rest)):
        return Control("time", _time(when.group("when")), the_time=True)
    return None


def _control(stripped: str) -> Control | None:
    if _SEND_NOW.match(stripped):
        return Control("confirm", now=True)
    if _CONFIRM.match(stripped):
        return Control("confirm")
    if _CANCEL.match(stripped):
        return Control("cancel")
    timed = _digits(stripped)
    if match := _SEND_TIME.match(timed):
        return Control("time", _time(match.group("when")), send_time=True)
    if match := _THE_TIME.match(timed):
        return Control("time", _time(match.group("when")), the_time=True)
    if match := (_SAY.match(stripped) or _WORDS.match(stripped)):
        words = _unquoted(match.group("text"))
        return Control("edit", words) if words.strip(": ") else None  # "edit it to say:" and nothing yet
    if (match := _ADD.match(stripped)) and (words := _unquoted(match["quoted"] or match["after_colon"])):
        return Control("add", words)
    if match := _TO.match(stripped):
        words = match.group("text").strip()
        if _SAY_ALONE.fullmatch(words):  # "change it to say" and nothing yet: no new words
            return None
        if not match.group("colon") and (when := _TO_TIME.fullmatch(_digits(words))):
            return Control("time", _time(when.group("when")))
        return Control("edit", _unquoted(words))
    return None


def clock_of(phrase: str) -> tuple[int, int, bool] | None:
    """A time said as a clock alone, without a day: (hour, minute, whether that hour is certain); None for anything
    else ("tomorrow at 9", "midnight", "in 2 hours"). "8", "8:00" and "8 o'clock" are (8, 0, False): 8am or 8pm, as
    the draft's time says; "8:30pm" is (20, 30, True), "noon" (12, 0, True), "20:00" and "08:00" are certain too."""
    said = phrase.strip().rstrip(".")
    if re.fullmatch(r"(?:at\s+)?(?:noon|midday)", said, re.I):
        return 12, 0, True
    match = _CLOCK.fullmatch(said)
    if match is None:
        return None
    hour, minute, ampm = int(match["hour"]), int(match["minute"] or 0), (match["ampm"] or "").lower()
    if ampm:
        return (hour % 12 + (12 if ampm == "p" else 0), minute, True) if 1 <= hour <= 12 else None
    if hour > 23:
        return None
    return hour, minute, not 1 <= hour <= 12 or match["hour"].startswith("0")


def _digits(text: str) -> str:
    """A clock said in words made digits: "eight pm" -> "8 pm", "eight thirty" -> "8:30", "at seven" -> "at 7"."""
    return _SPOKEN_CLOCK.sub(lambda match: in_digits(match[0]), text)


def _time(phrase: str) -> str:
    """The time phrase as said, without a sentence's full stop ("6pm." is "6pm"; "6 p.m." stays)."""
    return phrase if re.search(r"[ap]\.m\.$", phrase, re.I) else phrase.rstrip(".")


_QUOTES = {('"', '"'), ("“", "”"), ("'", "'"), ("‘", "’")}


def _unquoted(text: str) -> str:
    """The new words without the quotes around them, as the planner reads a message ("'running late'"); a quote
    that opens or closes only part of them stays (‘the sign says "SOLD"’)."""
    words = text.strip()
    if len(words) >= 2 and (words[0], words[-1]) in _QUOTES:
        return words[1:-1].strip()
    return words
