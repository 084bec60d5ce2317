"""Confirm, cancel and edit are decided by code from the whole message, never by the model."""

import pytest

from assistant.control import control_of


@pytest.mark.parametrize("text", [
    "yes", "Yes!", "y", "ok", "okay.", "sure", "confirm", "confirmed", "send", "send it", "send it now",
    "yes, send it", "yes send it", "go ahead", "do it", "looks good", "ship it",
    "yes please", "Yes, please.", "ok, send it", "sure, go ahead", "yes send it please", "ok thanks", "yep, do it",
])
def test_a_yes_confirms(text):
    assert control_of(text).action == "confirm"


@pytest.mark.parametrize("text", [
    "cancel", "cancel it", "never mind", "nevermind", "no", "nope", "don't send it", "dont send", "forget it",
    "scratch that", "no thanks", "No, thank you.", "no, cancel it", "no don't send it",
])
def test_a_no_cancels(text):
    assert control_of(text).action == "cancel"


@pytest.mark.parametrize("text", [
    "yes but change the time to 7", "send it to Sarah instead", "ok text John too", "sure, what time is it?",
    "no, send it", "yes no", "thanks", "please", "text Sarah yes please",
])
def test_anything_more_is_neither(text):
    assert control_of(text) is None


def test_change_it_to_is_an_edit_with_the_new_text():
    control = control_of('change it to "See you at 7"')
    assert (control.action, control.text) == ("edit", "See you at 7")
