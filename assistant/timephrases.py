"""Time phrases in a request ("at 5pm", "tomorrow at 9", "on Friday at noon", "in 2 hours") made into datetimes.

`now` is timezone-aware in the user's zone (a `zoneinfo.ZoneInfo`); every result is aware in that same zone.

The rules:

- A clock time with no day ("at 5pm", "at 17:00", "at noon") is today, or tomorrow if it has already passed.
  "midnight" is the end of the day it belongs to, so "at midnight" is the coming midnight.
- A bare hour with no am/pm and no day ("at 9", "at 5", "at 9:30") is the first of 9:00 and 21:00 today that is
  still ahead, else 9:00 tomorrow. "12" is noon. "17:00" and "09:00" (leading zero) are 24-hour times.
- With a day word a bare hour follows the part of day if one is said ("tomorrow morning at 8" is 8:00, "tonight
  at 9" is 21:00); else "today at 5" is the next of 5:00/17:00 still ahead; else it is read as business hours:
  1-6 pm, 7-11 am, 12 noon ("Friday at 3" is 15:00, "tomorrow at 9" is 9:00).
- A day with no time: 9:00; "morning" 9:00, "afternoon" 14:00, "evening" 18:00, "tonight" and "night" 19:00.
- A part of today with no time ("tonight", "this afternoon", "later tonight") is its usual hour while that is
  still ahead; once it has passed, the next whole hour at least 15 minutes away, if the part of the day has not
  ended by then ("tonight" said at 20:18 is 21:00; morning ends at noon, afternoon at 18:00, evening and night at
  midnight); else its usual hour, in the past. "later" before today's words changes nothing, except that "later
  today" is 14:00, else 18:00, else the next whole hour at least 15 minutes away before midnight.
- "next week" is next Monday (9:00 unless a time is said).
- Weekdays: "Friday", "on Friday" and "this Friday" are the first Friday whose time is still ahead (today when
  it is Friday and the time has not passed, otherwise a week later); "next Friday" is the same but never today.
- Dates: "Dec 3", "December 3rd", "12/3" (US month/day), "Friday, Nov 20", with an optional year; without a
  year, a date before today means next year's.
- "today", "tonight", "this morning" and dates with a time are taken literally: "today at 9am" said at 10:15 is
  in the past, and it is the caller's business to refuse it.
- "in 2 hours", "in 30 minutes", "in an hour", "in half an hour", "in 10 min": elapsed time from now, exact to
  the second (so two real hours across a DST change).
- A clock said in words is read as in digits, only in a shape a sentence does not have: an hour word with am/pm
  ("nine am", "seven thirty pm", "ten oh five a.m."), or after "at" with "o'clock" ("at nine o'clock", a bare hour).
  "at one point" and "at nine" are not time phrases.
- `loose_time` tells which phrases people also say inside a sentence: an elapsed time ("in 10 minutes"), a bare hour
  with no am/pm and no day ("at 5", "at 9:30"), and "next week" alone. Their meaning above is unchanged; it is for
  callers deciding whether such words are a send time (assistant/offline.py `_time_slot`).
- DST: wall-clock times are built on the calendar date, then localized. A time that does not exist (the spring
  forward gap) moves forward by the gap; an ambiguous one (fall back) is its first occurrence.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Literal

from dateutil.easter import easter
from dateutil.relativedelta import MO, SU, TH, relativedelta, weekday

__all__ = ["HOUR_WORD", "HOUR_WORDS", "MINUTE_WORD", "PHRASE", "Found", "find_time", "in_digits", "loose_time",
           "minutes_of", "parse_time", "split_time", "spoken_time", "wall_time"]

_WEEKDAYS = {"monday": 0, "mon": 0, "tuesday": 1, "tues": 1, "tue": 1, "wednesday": 2, "weds": 2,
             "thursday": 3, "thurs": 3, "thur": 3, "thu": 3, "friday": 4, "fri": 4, "saturday": 5, "sunday": 6}
_MONTHS = {name: number for number, names in enumerate(
    ["january jan", "february feb", "march mar", "april apr", "may", "june jun", "july jul", "august aug",
     "september sept sep", "october oct", "november nov", "december dec"], start=1) for name in names.split()}
_PART_HOURS = {"morning": 9, "afternoon": 14, "evening": 18, "night": 19}
_PART_ENDS = {"morning": 12, "afternoon": 18, "evening": 24, "night": 24, "later": 24}
_SOON = timedelta(minutes=15)  # "tonight" said after its usual hour: the next whole hour at least this far ahead
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
            "eight": 8, "nine": 9, "ten": 10, "fifteen": 15, "twenty": 20, "thirty": 30, "forty-five": 45,
            "forty five": 45, "ninety": 90, "a couple of": 2, "a couple": 2, "couple of": 2}


def _alt(words) -> str:
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True))


HOUR_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
              "ten": 10, "eleven": 11, "twelve": 12}
HOUR_WORD = rf"(?:{_alt(HOUR_WORDS)})"
"""An hour said as a word ("seven"); a regular expression without groups, for use with re.IGNORECASE."""
MINUTE_WORD = r"(?:o['’h]?\s?five|(?:twenty|thirty|forty|fifty)(?:[\s-]+five)?|ten|fifteen)"
"""Minutes said as words after an hour ("thirty", "forty-five", "oh five"); a regular expression without groups."""
_TENS = {"five": 5, "ten": 10, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50}
_AMPM = r"(?:(?:\s*[ap]\.?m\.?|[ap])(?!\w))"
_HOUR = r"(?:[01]?\d|2[0-3])"
# A clock said in words, only in a shape no sentence has: an hour word with am/pm ("nine am", "seven thirty pm"), or
# after "at" with "o'clock" ("at nine o'clock"). "at one point" and "at nine" are words.
_SPOKEN = rf"{HOUR_WORD}(?:[\s-]+{MINUTE_WORD})?\s*[ap]\.?m\.?(?!\w)"
_SPOKEN_OCLOCK = rf"{HOUR_WORD}\s*o['’]?clock(?!\w)"
_CLOCK = (rf"(?:(?:at\s+|@\s*)(?:noon|midday|midnight|{_SPOKEN}|{_SPOKEN_OCLOCK}"
          rf"|{_HOUR}(?::[0-5]\d)?{_AMPM}?(?:\s*o['’]?clock)?)"
          rf"|noon|midday|midnight|{_SPOKEN}|{_HOUR}:[0-5]\d{_AMPM}?|{_HOUR}{_AMPM})")
_PART = r"(?:morning|afternoon|evening|night)"
_DATE = (rf"(?:(?:{_alt(_MONTHS)})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?"
         r"|\d{1,2}/\d{1,2}(?:/(?:\d{4}|\d{2}))?)")
_DAY = (rf"(?:(?:tomorrow|tmrw|tmr)(?:\s+{_PART})?"
        r"|(?:later\s+)?(?:today|tonight|this\s+(?:morning|afternoon|evening))|next\s+week"
        rf"|(?:on\s+)?(?:(?:this|next|this\s+coming|coming)\s+)?(?:{_alt(_WEEKDAYS)})\.?(?:\s+{_PART})?"
        rf"|(?:on\s+)?(?:(?:{_alt(_WEEKDAYS)})\.?,?\s+)?{_DATE})")


def _on(month: int, day: int) -> Callable[[int], date]:
    return lambda year: date(year, month, day)


def _weekday_from(month: int, day: int, day_of_week: weekday) -> Callable[[int], date]:
    """The holiday on a weekday counted from a day: (11, 1, TH(4)) is the fourth Thursday of November."""
    return lambda year: date(year, month, day) + relativedelta(weekday=day_of_week)


# Holidays by name, and the day each falls on in a year (those that move by the US calendar's rule). A holiday is a
# time phrase only when it can't be the words of a greeting ("Merry Christmas", "Happy Thanksgiving"): after "on"
# ("on Christmas Eve"), with a part of the day ("Christmas morning"), or before a clock ("Christmas Eve at 6pm").
_THANKSGIVING = _weekday_from(11, 1, TH(4))
_HOLIDAYS: dict[str, Callable[[int], date]] = {
    "christmas eve": _on(12, 24), "christmas day": _on(12, 25), "christmas": _on(12, 25), "xmas": _on(12, 25),
    "boxing day": _on(12, 26), "new year's eve": _on(12, 31), "new year's day": _on(1, 1), "new year's": _on(1, 1),
    "valentine's day": _on(2, 14), "st. patrick's day": _on(3, 17), "st patrick's day": _on(3, 17),
    "halloween": _on(10, 31), "the fourth of july": _on(7, 4), "the 4th of july": _on(7, 4),
    "independence day": _on(7, 4), "easter": easter, "easter sunday": easter,
    "mother's day": _weekday_from(5, 1, SU(2)), "father's day": _weekday_from(6, 1, SU(3)),
    "memorial day": _weekday_from(5, 31, MO(-1)), "labor day": _weekday_from(9, 1, MO(1)),
    "thanksgiving": _THANKSGIVING, "thanksgiving day": _THANKSGIVING,
}
_HOLIDAY = _alt(_HOLIDAYS).replace("'", "['’]?")
_HOLIDAY_DAY = (rf"(?:on\s+(?:{_HOLIDAY})(?:\s+{_PART})?|(?:{_HOLIDAY})\s+{_PART}"
                rf"|(?:{_HOLIDAY})(?=\s*,?\s*(?:at\s|@)))")
_DAY = rf"(?:{_DAY}|{_HOLIDAY_DAY})"
_REL = (rf"in\s+(?:half\s+an?\s+hour|(?:\d+(?:\.\d+)?|{_alt(_NUMBERS)})\s*"
        rf"(?:hours?|hrs?|h|minutes?|mins?|m)(?!\w))")

PHRASE = rf"(?:{_REL}|{_DAY}(?:\s*,?\s*{_CLOCK})?|{_CLOCK}(?:\s*,?\s*{_DAY})?)(?!\w)"
"""A regular expression (no groups) for one time phrase; use with re.IGNORECASE."""

_FULL = [re.compile(p, re.I) for p in (
    rf"in\s+(?:(?P<half>half\s+an?\s+hour)"
    rf"|(?P<n>\d+(?:\.\d+)?|{_alt(_NUMBERS)})\s*(?P<unit>hours?|hrs?|h|minutes?|mins?|m))",
    rf"(?P<day>{_DAY})(?:\s*,?\s*(?P<clock>{_CLOCK}))?",
    rf"(?P<clock>{_CLOCK})(?:\s*,?\s*(?P<day>{_DAY}))?",
)]
_AT_END = re.compile(rf"(?:^|(?<=[\s,(]))(?P<phrase>{PHRASE})[\s.!?)]*$", re.I)
_AT_START = re.compile(rf"\s*(?P<phrase>{PHRASE})(?=[\s,:;.!?)—–-]|$)", re.I)


@dataclass(frozen=True)
class Found:
    """A time phrase found in a text: its span and what it means."""

    when: datetime
    start: int
    end: int


def wall_time(day: date, hour: int, minute: int, tz: tzinfo) -> datetime:
    """`hour:minute` on `day` in `tz` (24:00 is the next midnight); a time in a DST gap moves forward by the gap."""
    if hour == 24:
        day, hour = day + timedelta(days=1), 0
    local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)  # fold=0: first of an ambiguous pair
    return local.astimezone(UTC).astimezone(tz)


def parse_time(phrase: str, now: datetime) -> datetime | None:
    """The moment a whole phrase like "tomorrow at 9" means, seen from `now`; None if it is not a time phrase."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    text = _normal(phrase)
    for number, pattern in enumerate(_FULL):
        if m := pattern.fullmatch(text):
            try:
                if number == 0:
                    return _relative(m, now)
                clock = _clock(m["clock"]) if m["clock"] else None
                day = _day(m["day"], now.date()) if m["day"] else None
                return _resolve(now, day, clock)
            except ValueError:  # "Feb 30", "13pm"
                return None
    return None


def _normal(phrase: str) -> str:
    """A phrase lowercased, its spaces single, without closing punctuation (but keeping the "." of "p.m.")."""
    text = re.sub(r"\s+", " ", phrase.strip().rstrip(",!?").strip().lower())
    return text[:-1] if text.endswith(".") and not re.search(r"[ap]\.?m\.$", text) else text


def find_time(text: str, now: datetime, *, at: Literal["start", "end"]) -> Found | None:
    """The longest time phrase that starts or ends `text` (ignoring closing punctuation), if it means a time."""
    m = (_AT_START.match if at == "start" else _AT_END.search)(text)
    if m is None:
        return None
    when = parse_time(m["phrase"], now)
    return Found(when, m.start("phrase"), m.end("phrase")) if when else None


def loose_time(phrase: str) -> bool:
    """Is this time phrase one people also say about when something happens, rather than when to send: an elapsed
    time ("in 10 minutes", "in an hour"), a bare hour with no am/pm and no day ("at 5", "at 9:30", "at 9 o'clock"), or
    "next week" alone? False for anything else, including words that are not a time phrase."""
    text = _normal(phrase)
    if _FULL[0].fullmatch(text):
        return True
    m = next((m for pattern in _FULL[1:] if (m := pattern.fullmatch(text))), None)
    if m is None:
        return False
    if m["day"] is None:
        try:
            return _clock(m["clock"])[2]
        except ValueError:
            return False
    return m["clock"] is None and m["day"] == "next week"


def split_time(text: str, now: datetime) -> tuple[str, datetime | None]:
    """A request without the time phrase at its end (or else at its start), and that time; else (text, None)."""
    if found := find_time(text, now, at="end"):
        rest = text[:found.start].rstrip(" ,")
        if rest:
            return rest, found.when
    if found := find_time(text, now, at="start"):
        return text[found.end:].lstrip(" ,").strip(), found.when
    return text, None


def _relative(m: re.Match, now: datetime) -> datetime:
    if m["half"]:
        delta = timedelta(minutes=30)
    else:
        n = float(_NUMBERS.get(re.sub(r"\s+", " ", m["n"]), m["n"]))
        delta = timedelta(hours=n) if m["unit"].startswith("h") else timedelta(minutes=n)
    return (now.astimezone(UTC) + delta).astimezone(now.tzinfo)


def _clock(text: str) -> tuple[int, int, bool]:
    """(hour, minute, ambiguous) where ambiguous means "no am/pm said and it could be either"."""
    text = in_digits(re.sub(r"^(?:at\s+|@\s*)", "", text))
    text = re.sub(r"\s*o['’]?clock$", "", text)
    if text in ("noon", "midday"):
        return 12, 0, False
    if text == "midnight":
        return 24, 0, False
    m = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?\s*(?:([ap])\.?m?\.?)?", text)
    hour, minute, ampm = int(m[1]), int(m[2] or 0), m[3]
    if ampm:
        if not 1 <= hour <= 12:
            raise ValueError(text)
        return hour % 12 + (12 if ampm == "p" else 0), minute, False
    return hour, minute, 1 <= hour <= 12 and not m[1].startswith("0")


def in_digits(clock: str) -> str:
    """A clock said in words, in digits: "seven thirty pm" -> "7:30 pm", "nine o'clock" -> "9 o'clock", "eight" ->
    "8"; anything else as it is."""
    m = re.fullmatch(rf"(?P<hour>{HOUR_WORD})(?:[\s-]+(?P<minute>{MINUTE_WORD}))?"
                     r"(?P<rest>\s*(?:[ap]\.?m\.?|o['’]?clock))?", clock.strip(), re.I)
    if m is None:
        return clock
    hour = HOUR_WORDS[m["hour"].lower()]
    return (f"{hour}:{minutes_of(m['minute']):02d}" if m["minute"] else str(hour)) + (m["rest"] or "")


def minutes_of(said: str) -> int:
    """The minutes a MINUTE_WORD says: "thirty" 30, "forty-five" 45, "oh five" 5."""
    words = re.split(r"[\s-]+", said.strip().lower())
    return 5 if words[0].startswith("o") else sum(_TENS[w] for w in words)


def _day(text: str, today: date) -> tuple[str, object, str | None]:
    """("date", date, part), ("today", date, part) or ("weekday", (index, is_next), part)."""
    text = re.sub(r"^on\s+", "", text)
    later, text = text.startswith("later "), re.sub(r"^later\s+", "", text)
    part = m[1] if (m := re.search(rf"({_PART})$", text)) else None
    if text.startswith(("tomorrow", "tmrw", "tmr")):
        return "date", today + timedelta(days=1), part
    if text == "today":
        return "today", today, "later" if later else None
    if text == "tonight":
        return "today", today, "night"
    if text == "next week":
        return "weekday", (0, True), None
    if (holiday := _HOLIDAYS.get(re.sub(rf"\s+{_PART}$", "", text).replace("’", "'"))) is not None:
        return "date", _next_on_or_after(holiday, today), part
    if m := re.fullmatch(rf"(?:(this|next|this\s+coming|coming)\s+)?({_alt(_WEEKDAYS)})\.?(?:\s+{_PART})?", text):
        return "weekday", (_WEEKDAYS[m[2]], m[1] == "next"), part
    if text.startswith("this "):  # "this morning"
        return "today", today, part
    text = re.sub(rf"^(?:{_alt(_WEEKDAYS)})\.?,?\s+", "", text)  # "Friday, Nov 20": the date decides
    if m := re.fullmatch(r"(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?", text):
        month, dom, year = int(m[1]), int(m[2]), m[3]
    else:
        m = re.fullmatch(r"([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?", text)
        month, dom, year = _MONTHS[m[1]], int(m[2]), m[3]
    if year:
        return "date", date(int(year) + (2000 if len(year) == 2 else 0), month, dom), None
    for year in range(today.year, today.year + 5):  # without a year: the next such date, today included
        try:
            if (day := date(year, month, dom)) >= today:
                return "date", day, None
        except ValueError:  # Feb 29 in a common year
            continue
    raise ValueError(text)


def _next_on_or_after(holiday: Callable[[int], date], today: date) -> date:
    """This year's day of the holiday, or next year's once it has passed."""
    this_year = holiday(today.year)
    return this_year if this_year >= today else holiday(today.year + 1)


def _resolve(now: datetime, day, clock) -> datetime:
    tz, today = now.tzinfo, now.date()
    if day is None:  # a bare clock time: the next one still ahead
        hour, minute, ambiguous = clock
        for h in ([hour, hour + 12] if ambiguous and hour < 12 else [hour]):
            if (when := wall_time(today, h, minute, tz)) > now:
                return when
        return wall_time(today + timedelta(days=1), hour, minute, tz)
    kind, value, part = day
    if kind == "today" and part and clock is None:
        return _rest_of_today(now, part)
    hour, minute, ambiguous = clock or (_PART_HOURS.get(part, 9), 0, False)
    if ambiguous and hour < 12:
        if part:
            pm = part != "morning"
        elif kind == "today":
            pm = wall_time(today, hour, minute, tz) <= now
        else:
            pm = hour <= 6
        hour += 12 if pm else 0
    if kind != "weekday":
        return wall_time(value, hour, minute, tz)
    index, is_next = value
    target = today + relativedelta(weekday=index)  # today if today is that weekday
    if is_next and target == today:
        target += timedelta(days=7)
    when = wall_time(target, hour, minute, tz)
    return when if when > now else wall_time(target + timedelta(days=7), hour, minute, tz)


def _rest_of_today(now: datetime, part: str) -> datetime:
    """"tonight", "this afternoon", "later today" with no time: the usual hour while it is ahead, else the next whole
    hour at least _SOON away while the part of the day lasts, else the usual hour (in the past: refused)."""
    tz, today = now.tzinfo, now.date()
    usual = [14, 18] if part == "later" else [_PART_HOURS[part]]
    for hour in usual:
        if (when := wall_time(today, hour, 0, tz)) > now:
            return when
    soon = (now.astimezone(UTC) + _SOON).astimezone(tz)
    if soon.minute or soon.second or soon.microsecond:
        soon = wall_time(soon.date(), soon.hour + 1, 0, tz)
    return soon if soon < wall_time(today, _PART_ENDS[part], 0, tz) else wall_time(today, usual[0], 0, tz)


def spoken_time(phrase: str, now: datetime) -> str | None:
    """A whole time phrase as words for a message, its clock made plain: "tomorrow at 3" -> "3pm tomorrow", "at 6:30
    tomorrow" -> "6:30pm tomorrow", "at 7pm" -> "7pm", "at noon on Friday" -> "noon on Friday", "in 2 hours" -> the
    clock time then; a day alone as said ("Friday"). None when it is not a time phrase."""
    when = parse_time(phrase, now)
    if when is None:
        return None
    said = re.sub(r"\s+", " ", phrase.strip().rstrip(",!?").strip())
    if said.endswith(".") and not re.search(r"[ap]\.?m\.$", said, re.I):
        said = said[:-1]
    m = next(m for pattern in _FULL if (m := pattern.fullmatch(said)))
    if "n" in m.groupdict():  # "in 2 hours": the time it will be
        days = (when.date() - now.date()).days
        return _spoken_clock(when) + ("" if days == 0 else " tomorrow" if days == 1 else f" on {when:%b} {when.day}")
    day = " ".join(w.capitalize() if w.lower().rstrip(".,") in _WEEKDAYS.keys() | _MONTHS.keys() else w.lower()
                   for w in (m["day"] or "").split())
    if not m["clock"]:
        return day
    return f"{_spoken_clock(when)} {day}".strip()


def _spoken_clock(when: datetime) -> str:
    if when.minute == 0 and when.hour in (0, 12):
        return "midnight" if when.hour == 0 else "noon"
    minutes = f":{when.minute:02d}" if when.minute else ""
    return f"{when.hour % 12 or 12}{minutes}{'am' if when.hour < 12 else 'pm'}"
