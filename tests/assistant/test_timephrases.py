"""Time phrases: each rule of assistant/timephrases.py, DST on both edges, rollovers across midnight and weeks."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from assistant.timephrases import find_time, loose_time, parse_time, split_time, spoken_time

LA = ZoneInfo("America/Los_Angeles")
NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 18, 10, 15, tzinfo=LA)  # a Wednesday


def elapsed(start: datetime, end: datetime) -> timedelta:
    """Real time between two instants (subtracting datetimes of one zone gives wall-clock time)."""
    return end.astimezone(UTC) - start.astimezone(UTC)


def la(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LA)


@pytest.mark.parametrize(("phrase", "expected"), [
    ("at 5pm", la(11, 18, 17)),
    ("at 5:30 pm", la(11, 18, 17, 30)),
    ("at 5 p.m.", la(11, 18, 17)),
    ("5pm", la(11, 18, 17)),
    ("@5pm", la(11, 18, 17)),
    ("at 17:00", la(11, 18, 17)),
    ("at noon", la(11, 18, 12)),
    ("noon", la(11, 18, 12)),
    ("at midnight", la(11, 19, 0)),
    ("tomorrow at 9", la(11, 19, 9)),
    ("tomorrow 9am", la(11, 19, 9)),
    ("at 9 tomorrow", la(11, 19, 9)),
    ("tomorrow, at 9", la(11, 19, 9)),
    ("tomorrow", la(11, 19, 9)),
    ("tomorrow morning", la(11, 19, 9)),
    ("tomorrow afternoon", la(11, 19, 14)),
    ("tomorrow evening", la(11, 19, 18)),
    ("tomorrow night", la(11, 19, 19)),
    ("tomorrow morning at 8", la(11, 19, 8)),
    ("tomorrow evening at 7", la(11, 19, 19)),
    ("tonight", la(11, 18, 19)),
    ("tonight at 9", la(11, 18, 21)),
    ("this afternoon", la(11, 18, 14)),
    ("on Friday at noon", la(11, 20, 12)),
    ("at noon on Friday", la(11, 20, 12)),
    ("Friday at 3", la(11, 20, 15)),
    ("Friday 3pm", la(11, 20, 15)),
    ("Friday at 9", la(11, 20, 9)),
    ("friday", la(11, 20, 9)),
    ("Friday morning", la(11, 20, 9)),
    ("on Thursday at 4:45pm", la(11, 19, 16, 45)),
    ("in 2 hours", la(11, 18, 12, 15)),
    ("in 30 minutes", la(11, 18, 10, 45)),
    ("in an hour", la(11, 18, 11, 15)),
    ("in half an hour", la(11, 18, 10, 45)),
    ("in 10 min", la(11, 18, 10, 25)),
    ("in 10m", la(11, 18, 10, 25)),
    ("in 1.5 hours", la(11, 18, 11, 45)),
    ("in a couple of hours", la(11, 18, 12, 15)),
    ("in fifteen minutes", la(11, 18, 10, 30)),
    ("next Monday at 10am", la(11, 23, 10)),
    ("next monday", la(11, 23, 9)),
    ("on Dec 3 at 2pm", la(12, 3, 14)),
    ("on December 3rd at 2pm", la(12, 3, 14)),
    ("Dec. 3, 2027 at 2pm", la(12, 3, 14, year=2027)),
    ("on 12/3 at 2pm", la(12, 3, 14)),
    ("12/3/27 at 2pm", la(12, 3, 14, year=2027)),
    ("Friday, November 20 at 3pm", la(11, 20, 15)),
    ("on Thursday, Dec 3rd, 2026 at 9:00 AM", la(12, 3, 9)),
    ("Nov 3", la(11, 3, 9, year=2027)),  # earlier this year: next year's
    ("Nov 18 at 3pm", la(11, 18, 15)),
    # A bare hour: 9am if still ahead today, else 9pm if still ahead, else 9am tomorrow.
    ("at 9", la(11, 18, 21)),
    ("at 5", la(11, 18, 17)),
    ("at 11", la(11, 18, 11)),
    ("at 10", la(11, 18, 22)),
    ("at 10:30", la(11, 18, 10, 30)),
    ("at 12", la(11, 18, 12)),
    ("at 9 o'clock", la(11, 18, 21)),
    # An explicit time already past today means tomorrow; 24-hour forms are never ambiguous.
    ("at 9am", la(11, 19, 9)),
    ("at 5 am", la(11, 19, 5)),
    ("at 09:00", la(11, 19, 9)),
    ("at 0:30", la(11, 19, 0, 30)),
    # Day words are taken literally, even in the past.
    ("today at 9am", la(11, 18, 9)),
    ("today at 5", la(11, 18, 17)),
    # Today's weekday: later today if the time is ahead, else a week on; "next" is never today.
    ("Wednesday at 11", la(11, 18, 11)),
    ("Wednesday at 9", la(11, 25, 9)),
    ("next Wednesday at 11", la(11, 25, 11)),
    ("AT 5PM", la(11, 18, 17)),
    # "later" before today's words, and next week.
    ("later tonight", la(11, 18, 19)),
    ("later this afternoon", la(11, 18, 14)),
    ("later today", la(11, 18, 14)),
    ("later today at 5", la(11, 18, 17)),
    ("this morning", la(11, 18, 11)),  # 9:00 has passed: the next whole hour at least 15 minutes away
    ("next week", la(11, 23, 9)),
    ("next week at 10", la(11, 23, 10)),
    ("  tomorrow at 9.  ", la(11, 19, 9)),
])
def test_phrases(phrase, expected):
    when = parse_time(phrase, NOW)
    assert when == expected
    assert when.tzinfo is LA and when.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize("phrase", ["", "hello", "at", "Feb 30", "at 13pm", "at 0am", "in hours", "someday",
                                    "at 5 a", "24:00", "tomorrow at 25"])
def test_not_a_time(phrase):
    assert parse_time(phrase, NOW) is None


@pytest.mark.parametrize(("phrase", "expected"), [
    ("Christmas morning", la(12, 25, 9)),
    ("on Christmas", la(12, 25, 9)),
    ("on Christmas Eve at 6pm", la(12, 24, 18)),
    ("christmas eve evening", la(12, 24, 18)),
    ("New Year's Eve at 11pm", la(12, 31, 23)),
    ("on new year’s day at 10", datetime(2027, 1, 1, 10, tzinfo=LA)),
    ("on Thanksgiving", la(11, 26, 9)),  # the fourth Thursday of November
    ("Thanksgiving at noon", la(11, 26, 12)),
    ("on Halloween", datetime(2027, 10, 31, 9, tzinfo=LA)),  # passed this year: next year's
    ("on Easter", datetime(2027, 3, 28, 9, tzinfo=LA)),
    ("on Mother's Day", datetime(2027, 5, 9, 9, tzinfo=LA)),
    ("Labor Day morning", datetime(2027, 9, 6, 9, tzinfo=LA)),
    ("on Memorial Day", datetime(2027, 5, 31, 9, tzinfo=LA)),
    ("on the Fourth of July at 8pm", datetime(2027, 7, 4, 20, tzinfo=LA)),
])
def test_a_holiday_is_a_day(phrase, expected):
    assert parse_time(phrase, NOW) == expected


@pytest.mark.parametrize("text", ["Merry Christmas!", "Happy Thanksgiving", "happy new year's", "Happy Halloween",
                                  "see you Christmas"])
def test_a_holiday_alone_is_the_words_of_a_greeting(text):
    assert split_time(text, NOW) == (text, None)


@pytest.mark.parametrize(("now", "phrase", "expected"), [
    (la(11, 18, 7), "at 9", la(11, 18, 9)),            # 9am still ahead
    (la(11, 18, 22), "at 9", la(11, 19, 9)),           # both gone: 9am tomorrow
    (la(11, 18, 4), "at 5", la(11, 18, 5)),            # the rule, literally: 5am is still ahead
    (la(11, 18, 23), "at 5pm", la(11, 19, 17)),
    (la(11, 18, 23, 30), "in 2 hours", la(11, 19, 1, 30)),  # across midnight
    (la(11, 18, 23, 50), "in 10 min", la(11, 19, 0)),
    (la(11, 18, 23), "at midnight", la(11, 19, 0)),
    (la(11, 20, 15), "on Friday at noon", la(11, 27, 12)),  # Friday, noon has passed: next week
    (la(11, 20, 11), "on Friday at noon", la(11, 20, 12)),  # Friday, noon still ahead: today
    (la(11, 20, 11), "next Friday at noon", la(11, 27, 12)),
    (la(11, 21, 10), "Monday", la(11, 23, 9)),          # Saturday to Monday
    (la(11, 22, 10), "next Monday", la(11, 23, 9)),     # from Sunday, "next Monday" is tomorrow
    (la(12, 31, 10), "tomorrow at 9", la(1, 1, 9, year=2027)),
    (la(12, 31, 10), "Jan 2", la(1, 2, 9, year=2027)),
    (la(12, 30, 10), "Friday", la(1, 1, 9, year=2027)),
    (la(2, 1, 10, year=2027), "Feb 29", la(2, 29, 9, year=2028)),
    # A part of today said after its usual hour: the next whole hour at least 15 minutes away, while the part lasts.
    (la(11, 18, 20, 18), "tonight", la(11, 18, 21)),
    (la(11, 18, 20, 18), "later tonight", la(11, 18, 21)),
    (la(11, 18, 20, 45), "tonight", la(11, 18, 21)),
    (la(11, 18, 20, 46), "tonight", la(11, 18, 22)),
    (la(11, 18, 18, 50), "tonight", la(11, 18, 19)),   # 19:00 is still ahead
    (la(11, 18, 23, 20), "tonight", la(11, 18, 19)),   # no hour left tonight: 19:00, in the past, to be refused
    (la(11, 18, 20, 18), "tonight at 7", la(11, 18, 19)),  # a time said is literal
    (la(11, 18, 16, 40), "this afternoon", la(11, 18, 17)),
    (la(11, 18, 17, 40), "this afternoon", la(11, 18, 14)),
    (la(11, 18, 18, 30), "this evening", la(11, 18, 19)),
    (la(11, 18, 15, 0), "later today", la(11, 18, 18)),
    (la(11, 18, 19, 0), "later today", la(11, 18, 20)),
    (la(11, 23, 10), "next week", la(11, 30, 9)),      # said on a Monday: the Monday after
    (la(11, 22, 10), "next week", la(11, 23, 9)),      # said on a Sunday: tomorrow
])
def test_rollovers(now, phrase, expected):
    assert parse_time(phrase, now) == expected


def test_tomorrow_at_9_across_spring_forward():
    now = datetime(2026, 3, 7, 10, 0, tzinfo=NY)  # Saturday, EST; clocks go forward on Sunday at 2:00
    when = parse_time("tomorrow at 9", now)
    assert when == datetime(2026, 3, 8, 9, 0, tzinfo=NY)
    assert (when.hour, when.utcoffset()) == (9, timedelta(hours=-4))
    assert elapsed(now, when) == timedelta(hours=22)  # 23 hours on the clock, 22 real ones


def test_a_wall_time_in_the_spring_forward_gap_moves_forward():
    when = parse_time("tomorrow at 2:30am", datetime(2026, 3, 7, 10, 0, tzinfo=NY))
    assert (when.hour, when.minute, when.utcoffset()) == (3, 30, timedelta(hours=-4))


def test_an_ambiguous_fall_back_time_is_the_first_one():
    when = parse_time("tomorrow at 1:30am", datetime(2026, 10, 31, 12, 0, tzinfo=NY))
    assert (when.day, when.hour, when.minute, when.utcoffset()) == (1, 1, 30, timedelta(hours=-4))


def test_friday_at_noon_across_fall_back_keeps_the_wall_time():
    when = parse_time("on Monday at noon", datetime(2026, 10, 30, 12, 0, tzinfo=NY))  # Friday EDT, Monday EST
    assert (when.day, when.hour, when.utcoffset()) == (2, 12, timedelta(hours=-5))


@pytest.mark.parametrize(("start", "hours", "wall"), [
    (datetime(2026, 3, 8, 1, 30, tzinfo=NY), 2, (4, 30)),   # spring forward: 2 real hours, 3 on the clock
    (datetime(2026, 11, 1, 0, 30, tzinfo=NY), 2, (1, 30)),  # fall back: 2 real hours, 1 on the clock
])
def test_in_hours_is_elapsed_time_across_dst(start, hours, wall):
    when = parse_time(f"in {hours} hours", start)
    assert elapsed(start, when) == timedelta(hours=hours)
    assert (when.hour, when.minute) == wall


def test_now_must_be_aware():
    with pytest.raises(ValueError):
        parse_time("at 5pm", datetime(2026, 11, 18, 10, 15))


@pytest.mark.parametrize(("text", "expected"), [
    ("text Sarah see you at 5pm", ("text Sarah see you", la(11, 18, 17))),
    ("see you on Friday at noon.", ("see you", la(11, 20, 12))),
    ("send it, tomorrow at 9", ("send it", la(11, 19, 9))),
    ("tomorrow at 9 text Sarah", ("text Sarah", la(11, 19, 9))),
    ("at 5pm, text Sarah hi", ("text Sarah hi", la(11, 18, 17))),
    ("in 2 hours call John", ("call John", la(11, 18, 12, 15))),
    ("text Sarah hello", ("text Sarah hello", None)),
    ("unit 5", ("unit 5", None)),
    ("tomorrows agenda", ("tomorrows agenda", None)),
    ("at 5pm", ("", la(11, 18, 17))),
])
def test_split_time(text, expected):
    assert split_time(text, NOW) == expected


def test_find_time_gives_the_longest_phrase_and_its_span():
    text = "text Sarah on Friday at noon: hi"
    found = find_time(text, NOW, at="start")
    assert found is None
    head = "text Sarah on Friday at noon"
    found = find_time(head, NOW, at="end")
    assert (head[found.start:found.end], found.when) == ("on Friday at noon", la(11, 20, 12))
    found = find_time("tomorrow at 9: the inspection", NOW, at="start")
    assert (found.start, found.end, found.when) == (0, 13, la(11, 19, 9))


@pytest.mark.parametrize(("phrase", "expected"), [
    ("in 10 minutes", True),
    ("in 5 min", True),
    ("in an hour", True),
    ("in half an hour", True),
    ("at 5", True),
    ("at 9:30", True),
    ("at 9 o'clock", True),
    ("next week", True),
    ("Next  Week.", True),
    ("at 5pm", False),
    ("5 p.m.", False),
    ("at 17:00", False),
    ("at 09:00", False),
    ("at noon", False),
    ("tomorrow at 9", False),
    ("at 8 tonight", False),
    ("tomorrow", False),
    ("tomorrow morning", False),
    ("later tonight", False),
    ("next week at 10", False),
    ("next Monday", False),
    ("Monday at 3pm", False),
    ("hello", False),
    ("at 13pm", False),
])
def test_loose_time(phrase, expected):
    """Elapsed times, bare hours and "next week" alone are also said inside a message; their meaning is unchanged."""
    assert loose_time(phrase) is expected
    assert expected is False or parse_time(phrase, NOW) is not None


@pytest.mark.parametrize(("phrase", "expected"), [
    ("tomorrow at 3", "3pm tomorrow"),
    ("Tomorrow at 3", "3pm tomorrow"),
    ("at 6:30 tomorrow", "6:30pm tomorrow"),
    ("at 7pm", "7pm"),
    ("7 PM", "7pm"),
    ("at 17:00", "5pm"),
    ("at noon on friday", "noon on Friday"),
    ("tonight at 7", "7pm tonight"),
    ("Dec 3 at 2pm", "2pm Dec 3"),
    ("in 2 hours", "12:15pm"),
    ("friday", "Friday"),
    ("hello", None),
    ("12 Oak St", None),
])
def test_spoken_time(phrase, expected):
    assert spoken_time(phrase, NOW) == expected


def test_spoken_time_of_a_relative_time_past_midnight_names_the_day():
    assert spoken_time("in 2 hours", la(11, 18, 23)) == "1am tomorrow"


@pytest.mark.parametrize(("phrase", "expected"), [
    ("tomorrow at nine am", la(11, 19, 9)),
    ("at seven thirty pm", la(11, 18, 19, 30)),
    ("at Seven Thirty PM", la(11, 18, 19, 30)),
    ("seven forty-five p.m.", la(11, 18, 19, 45)),
    ("Friday at ten oh five am", la(11, 20, 10, 5)),
    ("nine am tomorrow", la(11, 19, 9)),
    ("at twelve am", la(11, 19, 0)),
    ("tomorrow at nine o'clock", la(11, 19, 9)),
    ("at nine o'clock", la(11, 18, 21)),
])
def test_a_clock_said_in_words_reads_as_in_digits(phrase, expected):
    assert parse_time(phrase, NOW) == expected


@pytest.mark.parametrize("phrase", ["at one point", "at nine", "nine", "seven thirty", "nine o'clock", "someone am",
                                    "at ten ish pm"])
def test_a_number_word_without_a_clocks_shape_is_no_time(phrase):
    assert parse_time(phrase, NOW) is None


def test_words_opening_a_message_are_found_only_in_a_clocks_shape():
    found = find_time("at seven thirty pm see you there", NOW, at="start")
    assert (found.end, found.when) == (len("at seven thirty pm"), la(11, 18, 19, 30))
    assert find_time("at one point I thought we were done", NOW, at="start") is None
    assert loose_time("at nine o'clock") and not loose_time("at nine pm")
    assert spoken_time("tomorrow at nine am", NOW) == "9am tomorrow"
