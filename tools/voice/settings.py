"""Voice settings: the model that transcribes and summarises calls, read from the environment.

Same variables as the assistant's model (OPENAI_API_KEY, OPENAI_BASE_URL, CODY_MODEL), read here again because
tools/ must not import assistant/. TRANSCRIPTION_MODEL names the speech-to-text model of `/v1/audio/transcriptions`.
"""

from functools import lru_cache

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class VoiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    cody_model: str = "gpt-4o-mini"
    transcription_model: str = "whisper-1"
    voice_timeout_seconds: float = 60.0
    max_recording_bytes: int = 25 * 1024 * 1024  # OpenAI's upload limit for transcriptions

    @property
    def uses_model(self) -> bool:
        return self.openai_api_key is not None and bool(self.openai_api_key.get_secret_value())


@lru_cache
def voice_settings() -> VoiceSettings:
    return VoiceSettings()
