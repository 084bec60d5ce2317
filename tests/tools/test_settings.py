"""Telephony settings refuse values that would break sending, naming the setting and why."""

import pytest
from pydantic import ValidationError

from tools.settings import TelephonySettings


def settings(**values) -> TelephonySettings:
    return TelephonySettings(_env_file=None, **values)


def test_the_defaults_hold():
    s = settings()
    assert (s.twilio_timeout_seconds, s.sending_timeout_seconds, s.send_retry_attempts) == (10.0, 120, 3)


def test_a_sending_timeout_a_live_send_could_outlast_is_refused():
    with pytest.raises(ValidationError) as caught:
        settings(twilio_timeout_seconds=30, sending_timeout_seconds=45)
    message = str(caught.value)
    assert "sending_timeout_seconds (45) must be at least twice twilio_timeout_seconds (30)" in message
    assert "send it twice" in message


def test_twice_the_carrier_timeout_is_enough():
    assert settings(twilio_timeout_seconds=30, sending_timeout_seconds=60).sending_timeout_seconds == 60


@pytest.mark.parametrize(("field", "value"), [
    ("twilio_timeout_seconds", 0), ("sending_timeout_seconds", -1), ("send_retry_attempts", 0),
    ("sandbox_callback_delay_seconds", -0.5),
])
def test_out_of_range_values_name_their_field(field, value):
    with pytest.raises(ValidationError) as caught:
        settings(**{field: value})
    assert field in str(caught.value)


def test_the_environment_is_checked_too(monkeypatch):
    monkeypatch.setenv("SENDING_TIMEOUT_SECONDS", "5")
    with pytest.raises(ValidationError, match="sending_timeout_seconds"):
        settings()
