"""The model and the assistant's own settings, read from the environment."""

from functools import lru_cache

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class AssistantSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    cody_model: str = "gpt-4o-mini"
    llm_timeout_seconds: float = 30.0
    llm_max_read_rounds: int = 3
    draft_ttl_minutes: int = 15

    @property
    def uses_llm(self) -> bool:
        return self.openai_api_key is not None and bool(self.openai_api_key.get_secret_value())


@lru_cache
def assistant_settings() -> AssistantSettings:
    return AssistantSettings()
