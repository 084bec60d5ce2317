"""Fetching a call recording's audio, with the Twilio account's credentials when the recording is Twilio's."""

from urllib.parse import urlsplit

import httpx

from tools import tls
from tools.settings import TelephonySettings

TWILIO_MEDIA_HOSTS = ("api.twilio.com",)


class RecordingUnavailable(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def audio_url(recording_url: str) -> str:
    """Twilio's RecordingUrl has no extension (it serves WAV); `.mp3` asks for the smaller MP3."""
    path = urlsplit(recording_url).path
    return recording_url if path.rsplit("/", 1)[-1].count(".") else recording_url + ".mp3"


def fetch_recording(url: str, settings: TelephonySettings, http: httpx.Client | None = None,
                    max_bytes: int = 25 * 1024 * 1024) -> tuple[bytes, str]:
    """The audio bytes and content type. Credentials go only to Twilio's own host (or the configured API host)."""
    auth = None
    host = urlsplit(url).hostname or ""
    allowed = set(TWILIO_MEDIA_HOSTS) | {urlsplit(settings.twilio_api_base_url).hostname or ""}
    if settings.uses_twilio and host in allowed:
        auth = (settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value())
    client = http or httpx.Client(timeout=30.0, verify=tls.verifying_context())
    try:
        response = client.get(url, auth=auth, follow_redirects=True)
    except httpx.HTTPError as exc:
        raise RecordingUnavailable(f"The recording could not be fetched ({type(exc).__name__}).") from exc
    finally:
        if http is None:
            client.close()
    if response.status_code != 200:
        raise RecordingUnavailable(f"The recording could not be fetched (HTTP {response.status_code}).")
    if len(response.content) > max_bytes:
        raise RecordingUnavailable("The recording is too large to transcribe.")
    content_type = response.headers.get("content-type", "audio/mpeg").split(";")[0].strip() or "audio/mpeg"
    return response.content, content_type
