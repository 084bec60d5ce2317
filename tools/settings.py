"""Telephony and compliance settings, read from the environment."""

import difflib
import ipaddress
import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Self
from urllib.parse import urlsplit

from dotenv import dotenv_values
from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# What Cody needs to send through Twilio; any one of them set means the operator meant Twilio.
TWILIO_CREDENTIALS = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN")
TWILIO_INTENT = (*TWILIO_CREDENTIALS, "TWILIO_MESSAGING_SERVICE_SID")


class ConfigurationError(Exception):
    """A setting that stops a Cody process from starting; the message names the setting and the fix."""


def _given(value: object) -> bool:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    return value is not None and str(value).strip() != ""


def _local_host(host: str) -> bool:
    """Whether Twilio's servers could not reach `host`: this machine, 0.0.0.0, or a private or reserved address."""
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # a name: only DNS knows, and a public name is what is asked for
    return not address.is_global


class TelephonySettings(BaseSettings):
    # hide_input_in_errors: a refused setting's error never quotes the other values, which include the auth token.
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", hide_input_in_errors=True)

    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_api_base_url: str = "https://api.twilio.com"
    twilio_timeout_seconds: float = Field(10.0, gt=0)
    public_base_url: str = "http://127.0.0.1:8000"
    sandbox_10dlc_registered: bool = True
    sandbox_callback_delay_seconds: float = Field(0.2, ge=0)
    send_retry_attempts: int = Field(3, ge=1)
    sending_timeout_seconds: int = Field(120, gt=0)
    # How many carrier calls one dispatcher has in flight at once (texts to one phone still go one after another, in
    # order). A real carrier answers a create in 100-300 ms, so a dispatcher sending one at a time manages a few texts
    # a second; Twilio answers 429 (retried with backoff) when an account has too many requests open.
    dispatch_concurrency: int = Field(4, ge=1, le=32)
    # Numbers' monthly renewal (tools/renewals.py): how long a number the wallet could not pay keeps working before it
    # is released, how often each dispatcher runs a renewal pass, and after how long a number left `releasing` (a
    # process stopped, or the carrier failed) is released by the next pass.
    number_grace_days: int = Field(7, ge=0)
    number_renewal_interval_seconds: float = Field(300.0, gt=0)
    number_releasing_timeout_seconds: int = Field(600, gt=0)
    # Whether a workspace's admins may add wallet credit themselves (POST /wallet/credit/). With Twilio the wallet
    # pays for real numbers, so credit comes with a payment, added by the operator (`cody admin credit`), unless
    # this is set (a deployment whose workspaces all pay Twilio themselves). The sandbox line always allows it.
    wallet_self_credit: bool = False

    @model_validator(mode="after")
    def _a_live_send_never_looks_stale(self) -> Self:
        if self.sending_timeout_seconds < 2 * self.twilio_timeout_seconds:
            raise ValueError(
                f"sending_timeout_seconds ({self.sending_timeout_seconds}) must be at least twice "
                f"twilio_timeout_seconds ({self.twilio_timeout_seconds:g}): a send still waiting on the carrier would "
                "otherwise look stale, and the reconciler could put it back in the outbox and send it twice.")
        return self

    @model_validator(mode="after")
    def _twilio_credentials_come_whole(self) -> Self:
        """Half a Twilio configuration is refused, never run as the sandbox (which reports texts delivered)."""
        values = {"TWILIO_ACCOUNT_SID": self.twilio_account_sid, "TWILIO_AUTH_TOKEN": self.twilio_auth_token,
                  "TWILIO_MESSAGING_SERVICE_SID": self.twilio_messaging_service_sid}
        present = [name for name in TWILIO_INTENT if _given(values[name])]
        missing = [name for name in TWILIO_CREDENTIALS if not _given(values[name])]
        if not present or not missing:
            return self
        given, lacking = " and ".join(present), " and ".join(missing)
        message = (f"{given} {'is' if len(present) == 1 else 'are'} set but {lacking} "
                   f"{'is' if len(missing) == 1 else 'are'} not. Set {lacking} (from the Twilio console) to send "
                   f"through Twilio, or unset {given} to use the sandbox line. Half a Twilio configuration is refused "
                   "rather than run as the sandbox, which would report texts delivered that never left.")
        hints = [f"{name} is set, but Cody reads no such setting" + (f" (did you mean {guess}?)" if guess else "")
                 for name, guess in unread_twilio_variables()]
        raise ValueError(message + (" " + "; ".join(hints) + "." if hints else ""))

    @property
    def uses_twilio(self) -> bool:
        return _given(self.twilio_account_sid) and _given(self.twilio_auth_token)

    @property
    def admins_add_credit(self) -> bool:
        """Whether POST /wallet/credit/ may add credit with no payment behind it (wallet_self_credit)."""
        return self.wallet_self_credit or not self.uses_twilio

    @property
    def carrier_is_twilio_cloud(self) -> bool:
        """Twilio's own API, whose callbacks come from outside (not a fake or mock carrier at TWILIO_API_BASE_URL)."""
        host = (urlsplit(self.twilio_api_base_url).hostname or "").lower()
        return host == "twilio.com" or host.endswith(".twilio.com")

    def public_base_url_problem(self) -> str | None:
        """Why Twilio could not call Cody back at PUBLIC_BASE_URL, or None.

        Only Twilio's own API is held to it: the sandbox posts to this process, and a carrier run at another
        TWILIO_API_BASE_URL (a fake for load tests) may be on this machine too.
        """
        if not (self.uses_twilio and self.carrier_is_twilio_cloud):
            return None
        fix = ("Set PUBLIC_BASE_URL to the https URL Twilio reaches this server at (e.g. https://cody.example.com): "
               "status callbacks and the webhooks of bought numbers point there, and webhook signatures are checked "
               "against it.")
        if "public_base_url" not in self.model_fields_set:
            return f"PUBLIC_BASE_URL is not set, and Twilio credentials are. {fix}"
        url = urlsplit(self.public_base_url)
        if url.scheme != "https" or not url.hostname:
            return f"PUBLIC_BASE_URL ({self.public_base_url}) is not an https URL. {fix}"
        if _local_host(url.hostname):
            return (f"PUBLIC_BASE_URL ({self.public_base_url}) names an address Twilio cannot reach "
                    f"({url.hostname}). {fix}")
        return None


def configuration_error(exc: ValidationError) -> ConfigurationError:
    """A settings class's refusal as one message per problem, each naming its environment variable, never a value."""
    lines = []
    for error in exc.errors(include_url=False, include_input=False):
        message = error["msg"].removeprefix("Value error, ")
        lines.append(f"{str(error['loc'][0]).upper()}: {message}" if error["loc"] else message)
    return ConfigurationError("\n".join(lines))


def unread_twilio_variables(environ: Mapping[str, str] | None = None) -> list[tuple[str, str | None]]:
    """TWILIO_* variables in the environment, or in the `.env` file settings are read from, that Cody does not read
    (misspelt?), each with its closest setting."""
    known = {f"TWILIO_{name.removeprefix('twilio_').upper()}" for name in TelephonySettings.model_fields
             if name.startswith("twilio_")}
    if environ is None:
        environ = {**dotenv_values(TelephonySettings.model_config["env_file"]), **os.environ}
    unread = sorted(name for name in environ if name.upper().startswith("TWILIO_") and name.upper() not in known)
    return [(name, next(iter(difflib.get_close_matches(name.upper(), known, n=1, cutoff=0.75)), None))
            for name in unread]


@lru_cache
def telephony_settings() -> TelephonySettings:
    return TelephonySettings()
