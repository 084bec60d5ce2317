"""Server settings, read from the environment."""

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict

from db.session import DEFAULT_URL


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = DEFAULT_URL
    run_dispatcher: bool = True
    dispatcher_poll_seconds: float = 0.5
    rate_limit_per_minute: int = 1200  # requests per API key per window; 0 turns the limit off
    rate_limit_window_seconds: int = 60
    max_body_bytes: int = 1_000_000
    log_level: str = "INFO"
    log_json: bool = True


@lru_cache
def api_settings() -> ApiSettings:
    return ApiSettings()
