"""Which of the choices Cody offered ("Which Smith do you mean?") a typed or spoken answer picks, decided by code.

A choice is {"label": "Mary Smith (The Smiths)", "value": "@cont_..."}; a button sends its value. A typed answer
picks a choice by its value, by its whole name ("Mary Smith"), by position ("2", "the second one", "number two",
"the last one"), or by words that only one choice has ("Mary", "the one from Acme", "the one about the keys"), filler
words aside ("the one", "about", "saying", ...): first the words of its name (the label before any parenthesis), then
those of its whole label. Two choices that fit as well pick nothing, and nor does anything else: the caller asks
again.
"""

import re

from db.models.crm import fold

Choice = dict[str, str]

_NUMBERS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")
_SUFFIXED = ("1st", "2nd", "3rd", *(f"{n}th" for n in range(4, 11)))
_POSITIONS = {
    word: i
    for words in (_NUMBERS, _ORDINALS, _SUFFIXED, [str(n) for n in range(1, 11)])
    for i, word in enumerate(words)
}
_FILLER = frozenset(
    "the one i mean meant want pick choose take please thanks thank you number no option choice from at "
    "with its it is that about saying says said text message scheduled".split()
)


def pick(answer: str, choices: list[Choice]) -> Choice | None:
    """The one choice the answer names, or None."""
    for choice in choices:
        if answer.strip() == choice["value"]:
            return choice
    said = fold(answer)
    named = [c for c in choices if fold(name_of(c["label"])) == said]
    if len(named) == 1:
        return named[0]
    words = [w for w in said.split() if w not in _FILLER] or said.split()  # "one" alone is a position
    position = _position(words, len(choices))
    if position is not None:
        return choices[position] if position < len(choices) else None
    return _by_words(words, choices) if words else None


def listing(labels: list[str]) -> str:
    """The labels as said, in the order their positions count: "A", "A, or B", "A, B, or C"."""
    return labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])}, or {labels[-1]}"


def name_of(label: str) -> str:
    """A choice's name: its label before any parenthesis ("Sarah Lee (Buyer)" -> "Sarah Lee")."""
    return re.sub(r"\s*\(.*$", "", label)


def _position(words: list[str], count: int) -> int | None:
    if words == ["last"]:
        return count - 1
    return _POSITIONS.get(words[0]) if len(words) == 1 else None


def _by_words(words: list[str], choices: list[Choice]) -> Choice | None:
    """The choice whose name, or else whole label, has every word (as a whole word, or begun by one of 3 letters
    or more), when exactly one has."""
    for text in (lambda c: name_of(c["label"]), lambda c: c["label"]):
        for begun in (False, True):
            fits = [c for c in choices if _has_all(fold(text(c)).split(), words, begun)]
            if fits:
                return fits[0] if len(fits) == 1 else None
    return None


def _has_all(tokens: list[str], words: list[str], begun: bool) -> bool:
    return all(any(t == w or (begun and len(w) >= 3 and t.startswith(w)) for t in tokens) for w in words)
