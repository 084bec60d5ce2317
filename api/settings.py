"""Server settings, read from the environment."""

from functools import lru_cache

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from db.session import DEFAULT_URL

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ApiSettings(BaseSettings):
    # hide_input_in_errors: a refused setting's error never quotes the others (DATABASE_URL may hold a password).
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", hide_input_in_errors=True)

    database_url: str = DEFAULT_URL
    run_dispatcher: bool = True
    dispatcher_poll_seconds: float = 0.5
    rate_limit_per_minute: int = 1200  # requests per API key per window; 0 turns the limit off
    rate_limit_window_seconds: int = 60
    max_body_bytes: int = 1_000_000
    log_level: str = "INFO"
    log_json: bool = True

    @field_validator("log_level")
    @classmethod
    def _a_level_logging_knows(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"{value!r} is not a log level; use one of {', '.join(LOG_LEVELS)}")
        return level


@lru_cache
def api_settings() -> ApiSettings:
    return ApiSettings()
