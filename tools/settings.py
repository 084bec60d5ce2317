"""Telephony and compliance settings, read from the environment."""

from functools import lru_cache
from typing import Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class TelephonySettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

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

    @model_validator(mode="after")
    def _a_live_send_never_looks_stale(self) -> Self:
        if self.sending_timeout_seconds < 2 * self.twilio_timeout_seconds:
            raise ValueError(
                f"sending_timeout_seconds ({self.sending_timeout_seconds}) must be at least twice "
                f"twilio_timeout_seconds ({self.twilio_timeout_seconds:g}): a send still waiting on the carrier would "
                "otherwise look stale, and the reconciler could put it back in the outbox and send it twice.")
        return self

    @property
    def uses_twilio(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token)


@lru_cache
def telephony_settings() -> TelephonySettings:
    return TelephonySettings()
