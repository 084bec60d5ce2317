"""Telephony settings refuse values that would break sending, naming the setting and why."""

import pytest
from pydantic import ValidationError

from tools.settings import TelephonySettings, configuration_error


def settings(**values) -> TelephonySettings:
    return TelephonySettings(_env_file=None, **values)


def test_the_defaults_hold():
    s = settings()
    assert (s.twilio_timeout_seconds, s.sending_timeout_seconds, s.send_retry_attempts) == (10.0, 120, 3)
    assert (s.number_grace_days, s.number_renewal_interval_seconds, s.number_releasing_timeout_seconds) == (7, 300, 600)
    assert s.dispatch_concurrency == 4


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
    ("sandbox_callback_delay_seconds", -0.5), ("number_grace_days", -1), ("number_renewal_interval_seconds", 0),
    ("number_renewal_interval_seconds", -300), ("number_releasing_timeout_seconds", 0),
    ("dispatch_concurrency", 0), ("dispatch_concurrency", 33),
])
def test_out_of_range_values_name_their_field(field, value):
    with pytest.raises(ValidationError) as caught:
        settings(**{field: value})
    assert field in str(caught.value)


def test_the_environment_is_checked_too(monkeypatch):
    monkeypatch.setenv("SENDING_TIMEOUT_SECONDS", "5")
    with pytest.raises(ValidationError, match="sending_timeout_seconds"):
        settings()


def test_a_grace_period_of_no_days_is_allowed():
    assert settings(number_grace_days=0).number_grace_days == 0


@pytest.mark.parametrize(("name", "value", "says"), [
    ("NUMBER_GRACE_DAYS", "-1", "NUMBER_GRACE_DAYS: Input should be greater than or equal to 0"),
    ("NUMBER_GRACE_DAYS", "a week", "NUMBER_GRACE_DAYS: Input should be a valid integer"),
    ("NUMBER_RENEWAL_INTERVAL_SECONDS", "0", "NUMBER_RENEWAL_INTERVAL_SECONDS: Input should be greater than 0"),
])
def test_a_bad_renewal_setting_in_the_environment_is_a_startup_error_naming_it(monkeypatch, name, value, says):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as caught:
        settings()
    assert str(configuration_error(caught.value)).startswith(says)


def test_the_dispatcher_renews_as_often_as_set(factory):
    from tools.runtime import build_runtime

    assert build_runtime(settings(number_renewal_interval_seconds=42), factory).dispatcher.renew_every == 42


def test_a_refused_setting_never_quotes_the_auth_token(monkeypatch):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "tok-never-shown-0123456789")
    monkeypatch.setenv("SENDING_TIMEOUT_SECONDS", "5")
    with pytest.raises(ValidationError) as caught:
        settings()
    assert "sending_timeout_seconds" in str(caught.value) and "tok-never-shown" not in str(caught.value)


@pytest.mark.parametrize(("given", "missing"), [
    ({"twilio_account_sid": "AC" + "4" * 32}, "TWILIO_AUTH_TOKEN"),
    ({"twilio_auth_token": "tok-never-shown-0123456789"}, "TWILIO_ACCOUNT_SID"),
    ({"twilio_account_sid": "AC" + "4" * 32, "twilio_auth_token": ""}, "TWILIO_AUTH_TOKEN"),
    ({"twilio_messaging_service_sid": "MG" + "5" * 32}, "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"),
])
def test_half_a_twilio_configuration_is_refused_naming_what_is_missing(given, missing):
    with pytest.raises(ValidationError) as caught:
        settings(**given)
    assert f"{missing} {'are' if ' and ' in missing else 'is'} not. Set {missing}" in str(caught.value)
    assert "tok-never-shown" not in str(caught.value)


def test_no_twilio_setting_at_all_is_the_sandbox():
    assert not settings().uses_twilio and settings().public_base_url_problem() is None


def test_a_runtime_for_twilio_without_a_public_url_is_refused_whoever_builds_it(factory):
    """Not only `cody serve`: the default URL is this machine's, which Twilio can never call back."""
    from tools.runtime import build_runtime
    from tools.settings import ConfigurationError

    with pytest.raises(ConfigurationError, match="PUBLIC_BASE_URL is not set, and Twilio credentials are"):
        build_runtime(settings(twilio_account_sid="AC" + "4" * 32, twilio_auth_token="tok"), factory)
