"""The long-lived parts a process shares: database sessions, the provider, messaging, the dispatcher."""

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from tools.messaging import Messaging
from tools.messaging.dispatcher import Dispatcher
from tools.settings import TelephonySettings
from tools.telephony.base import Provider
from tools.telephony.callbacks import SignedPoster
from tools.telephony.sandbox import SandboxProvider
from tools.telephony.twilio_provider import TwilioProvider


@dataclass
class Runtime:
    factory: sessionmaker[Session]
    settings: TelephonySettings
    provider: Provider
    messaging: Messaging
    dispatcher: Dispatcher


def build_provider(settings: TelephonySettings, factory: sessionmaker[Session]) -> tuple[Provider, str | None]:
    """Twilio when credentials are set, else the sandbox; with the messaging service US texts go through."""
    if settings.uses_twilio:
        return TwilioProvider(settings), settings.twilio_messaging_service_sid
    sandbox = SandboxProvider(settings, SignedPoster(settings, factory))
    return sandbox, sandbox.messaging_service_sid if settings.sandbox_10dlc_registered else None


def build_runtime(settings: TelephonySettings, factory: sessionmaker[Session], provider: Provider | None = None,
                  default_messaging_service: str | None = None, poll_seconds: float = 0.5) -> Runtime:
    if provider is None:
        provider, default_messaging_service = build_provider(settings, factory)
    messaging = Messaging(provider, settings, default_messaging_service)
    return Runtime(factory, settings, provider, messaging, Dispatcher(messaging, factory, poll_seconds=poll_seconds))
