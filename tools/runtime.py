"""The long-lived parts a process shares: database sessions, the provider, messaging, the dispatcher."""

import logging
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from tools.messaging import Messaging
from tools.messaging.dispatcher import Dispatcher
from tools.settings import ConfigurationError, TelephonySettings, unread_twilio_variables
from tools.telephony.base import Provider
from tools.telephony.callbacks import SignedPoster
from tools.telephony.sandbox import SandboxProvider
from tools.telephony.twilio_provider import TwilioProvider

log = logging.getLogger("cody.runtime")


@dataclass
class Runtime:
    factory: sessionmaker[Session]
    settings: TelephonySettings
    provider: Provider
    messaging: Messaging
    dispatcher: Dispatcher


def build_provider(settings: TelephonySettings, factory: sessionmaker[Session]) -> tuple[Provider, str | None]:
    """Twilio when credentials are set, else the sandbox; with the messaging service US texts go through.

    Twilio without PUBLIC_BASE_URL is refused here too (`ConfigurationError`), whoever builds the runtime: the default
    address is this machine's, and every send would ask Twilio to call back an address it cannot reach.
    """
    if settings.uses_twilio:
        if settings.carrier_is_twilio_cloud and "public_base_url" not in settings.model_fields_set:
            raise ConfigurationError(settings.public_base_url_problem() or "PUBLIC_BASE_URL is not set.")
        return TwilioProvider(settings), settings.twilio_messaging_service_sid
    sandbox = SandboxProvider(settings, SignedPoster(settings, factory))
    return sandbox, sandbox.messaging_service_sid if settings.sandbox_10dlc_registered else None


def build_runtime(settings: TelephonySettings, factory: sessionmaker[Session], provider: Provider | None = None,
                  default_messaging_service: str | None = None, poll_seconds: float = 0.5) -> Runtime:
    if provider is None:
        provider, default_messaging_service = build_provider(settings, factory)
    messaging = Messaging(provider, settings, default_messaging_service)
    dispatcher = Dispatcher(messaging, factory, poll_seconds=poll_seconds, concurrency=settings.dispatch_concurrency,
                            renew_every=settings.number_renewal_interval_seconds)
    return Runtime(factory, settings, provider, messaging, dispatcher)


def start_runtime(settings: TelephonySettings, factory: sessionmaker[Session], poll_seconds: float = 0.5) -> Runtime:
    """The runtime of a serving process (`cody serve`, `cody worker`, `create_app()` without one).

    Unlike `build_runtime`, which tests and benchmarks call with whatever they need, this refuses a configuration
    Twilio could not work with (raising `ConfigurationError`) and logs which carrier the process sends through.
    """
    if problem := settings.public_base_url_problem():
        raise ConfigurationError(problem)
    runtime = build_runtime(settings, factory, poll_seconds=poll_seconds)
    log.info("%s", describe_carrier(settings))
    for name, guess in unread_twilio_variables():
        log.warning("%s is set, but Cody reads no such setting%s", name, f" (did you mean {guess}?)" if guess else "")
    return runtime


def describe_carrier(settings: TelephonySettings) -> str:
    """One line for the startup log: the carrier, its account and where callbacks go (never the auth token)."""
    if not settings.uses_twilio:
        return (f"Telephony: the sandbox line (no Twilio credentials): no text or call reaches a carrier; "
                f"its callbacks go to {settings.public_base_url}")
    sid = settings.twilio_account_sid or ""
    service = settings.twilio_messaging_service_sid
    pool = (f"messaging service {service}" if service
            else "no messaging service (texts from a US long code to US numbers are refused)")
    return (f"Telephony: Twilio, account {sid[:2]}...{sid[-4:]} at {settings.twilio_api_base_url}, {pool}; "
            f"webhooks and status callbacks at {settings.public_base_url}")
