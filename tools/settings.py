"""Telephony and compliance settings, read from the environment."""

from functools import lru_cache

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class TelephonySettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_api_base_url: str = "https://api.twilio.com"
    twilio_timeout_seconds: float = 10.0
    public_base_url: str = "http://127.0.0.1:8000"
    sandbox_10dlc_registered: bool = True
    sandbox_callback_delay_seconds: float = 0.2
    send_retry_attempts: int = 3
    sending_timeout_seconds: int = 120

    @property
    def uses_twilio(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token)


@lru_cache
def telephony_settings() -> TelephonySettings:
    return TelephonySettings()
