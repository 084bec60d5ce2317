"""Confirm, cancel and edit are decided by code from the whole message, never by the model."""

import pytest

from assistant.control import Control, clock_of, control_of


@pytest.mark.parametrize("text", [
    "yes", "Yes!", "y", "ok", "okay.", "sure", "confirm", "confirmed", "send", "send it", "send it now",
    "yes, send it", "yes send it", "go ahead", "do it", "looks good", "ship it",
    "yes please", "Yes, please.", "ok, send it", "sure, go ahead", "yes send it please", "ok thanks", "yep, do it",
    "yup", "yea", "k", "sure thing", "Sure thing!", "sounds good", "perfect, thanks", "👍", "👍 send it",
])
def test_a_yes_confirms(text):
    assert control_of(text).action == "confirm"


@pytest.mark.parametrize("text", [
    "cancel", "cancel it", "never mind", "nevermind", "no", "nope", "don't send it", "dont send", "forget it",
    "scratch that", "no thanks", "No, thank you.", "no, cancel it", "no don't send it",
    "nah", "Nah, thanks", "no way", "stop", "don't", "do not send it", "👎",
])
def test_a_no_cancels(text):
    assert control_of(text).action == "cancel"


@pytest.mark.parametrize("text", [
    "send it to Sarah instead", "ok text John too", "sure, what time is it?", "no, send it", "yes no", "yes, cancel it",
    "thanks", "please", "text Sarah yes please", "yes but say hi", "no, John",
])
def test_anything_more_is_neither(text):
    assert control_of(text) is None


@pytest.mark.parametrize(("text", "change"), [
    ("yes but at 7", Control("time", "at 7", the_time=True)),
    ("Yes, but 7pm", Control("time", "7pm", the_time=True)),
    ("ok, tomorrow at 9", Control("time", "tomorrow at 9", the_time=True)),
    ("nope, at 8pm please", Control("time", "at 8pm", the_time=True)),
    ("yes but change the time to 7", Control("time", "7", the_time=True)),
    ("no, make it 8pm instead", Control("time", "8pm", the_time=True)),
    ("sure, send it at 7", Control("time", "at 7", send_time=True)),
    ("actually, change it to say running late", Control("edit", "running late")),
    ('ok but add "bring the keys"', Control("add", "bring the keys")),
])
def test_a_yes_or_no_followed_by_a_change_is_the_change(text, change):
    assert control_of(text) == change


def test_change_it_to_is_an_edit_with_the_new_text():
    control = control_of('change it to "See you at 7"')
    assert (control.action, control.text) == ("edit", "See you at 7")


@pytest.mark.parametrize("text", ["wait, cancel that", "actually, never mind", "cancel this please", "hold on, don't send it",
                                  "no, don't send that"])
def test_a_no_said_with_a_second_thought_cancels(text):
    assert control_of(text).action == "cancel"


@pytest.mark.parametrize(("text", "words"), [
    ("change it to say hello", "hello"),
    ("edit it to say: yes", "yes"),
    ("change it to say to meet at the house", "to meet at the house"),
    ("make it say see you at 8", "see you at 8"),
    ("update it say thanks!", "thanks!"),
    ("change the message to: running late", "running late"),
    ('change it to "8pm"', "8pm"),
    ("change it to: 8pm", "8pm"),
    ("change it to Sarah", "Sarah"),
    ("change it to see you at 8", "see you at 8"),
])
def test_new_words_are_what_comes_after_to_or_say(text, words):
    assert control_of(text) == Control("edit", words)


@pytest.mark.parametrize(("text", "when"), [
    ("change it to 8pm", "8pm"), ("change it to tomorrow at 9", "tomorrow at 9"), ("edit it to 7:30 please", "7:30"),
    ("change it to 8pm instead", "8pm"),
])
def test_change_it_to_a_time_alone_is_a_new_time(text, when):
    assert control_of(text) == Control("time", when)


@pytest.mark.parametrize(("text", "when"), [
    ("send it tomorrow at 9 instead", "tomorrow at 9"), ("change the send time to 8pm", "8pm"),
    ("schedule it for 8am", "8am"), ("move it to 9am", "9am"), ("push it to Friday at noon", "Friday at noon"),
    ("send it at 9", "at 9"), ("Reschedule it for 6pm.", "6pm"), ("move it to eight", "8"),
])
def test_a_new_send_time(text, when):
    assert control_of(text) == Control("time", when, send_time=True)


@pytest.mark.parametrize(("text", "when"), [
    ("make it 8pm instead", "8pm"), ("change the time to 8pm", "8pm"), ("change the time to 8:30pm", "8:30pm"),
    ("make it 8 instead", "8"), ("set the time to eight thirty pm", "8:30 pm"),
])
def test_the_time_is_the_drafts_time_not_only_its_send_time(text, when):
    assert control_of(text) == Control("time", when, the_time=True)


@pytest.mark.parametrize(("text", "when", "clock"), [
    ("change it to 8", "8", (8, 0, False)), ("change it to 8 o'clock", "8 o'clock", (8, 0, False)),
    ("change it to eight pm", "8 pm", (20, 0, True)), ("change it to eight", "8", (8, 0, False)),
    ("change it to 8:00", "8:00", (8, 0, False)), ("change it to 4", "4", (4, 0, False)),
    ("change it to at seven", "at 7", (7, 0, False)), ("change it to 20:00", "20:00", (20, 0, True)),
    ("change it to noon", "noon", (12, 0, True)), ("change it to tomorrow at 9", "tomorrow at 9", None),
])
def test_a_clock_in_digits_or_words_alone_is_a_new_time(text, when, clock):
    assert control_of(text) == Control("time", when)
    assert clock_of(when) == clock


@pytest.mark.parametrize("text", ["send it now", "send now", "yes, send it now", "send it now instead",
                                  "Send it right now please"])
def test_send_it_now_is_a_yes_that_sends_now(text):
    assert control_of(text) == Control("confirm", now=True)


@pytest.mark.parametrize(("text", "words"), [("change it to 45", "45"), ("change it to one more thing",
                                                                            "one more thing")])
def test_a_number_that_is_no_clock_is_words(text, words):
    assert control_of(text) == Control("edit", words)


@pytest.mark.parametrize("text", ["make it shorter", "send it to Sarah instead", "move it to the other line",
                                  "schedule a showing for 8am", "change it to say", "edit it to say:", "make it say"])
def test_a_change_that_is_no_time_and_no_words_is_neither(text):
    assert control_of(text) is None


@pytest.mark.parametrize(("text", "words"), [
    ("add 'see you soon'", "see you soon"),
    ("add: see you soon", "see you soon"),
    ("Add \u201cbring the keys\u201d at the end", "bring the keys"),
    ("also add \"Thanks!\"", "Thanks!"),
    ("append: (call me if you're late)", "(call me if you're late)"),
])
def test_add_with_quoted_words_or_a_colon_adds_words_at_the_end(text, words):
    assert control_of(text) == Control("add", words)


@pytest.mark.parametrize("text", ["add John", "add John too", "add Sarah to it", "add: ", "add ''"])
def test_add_without_quotes_or_a_colon_is_neither(text):
    """ "add John" may mean another person: only quoted words or words after a colon are words to add."""
    assert control_of(text) is None
