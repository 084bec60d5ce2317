"""Twilio webhook signatures: one token, used by the sandbox to sign and by the webhooks to check."""

import secrets
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from db.models import AppSecret
from tools.settings import TelephonySettings
from tools.upsert import insert_ignore

SANDBOX_TOKEN_NAME = "sandbox_webhook_token"


class FormPairs:
    """Form fields as received, repeated keys included; what RequestValidator reads through getlist."""

    def __init__(self, pairs: Iterable[tuple[str, str]]):
        self.pairs = list(pairs)
        self._first: dict[str, str] = {}  # each key's first value, keys in the order they came
        for key, value in self.pairs:
            self._first.setdefault(key, value)

    def __iter__(self):
        return iter(self._first)

    def __bool__(self) -> bool:
        return bool(self.pairs)

    def getlist(self, key: str) -> list[str]:
        return [v for k, v in self.pairs if k == key]

    def as_httpx(self) -> dict[str, list[str]]:
        """The form for httpx, which sends a list value as repeated keys."""
        form: dict[str, list[str]] = {}
        for key, value in self.pairs:
            form.setdefault(key, []).append(value)
        return form

    def get(self, key: str, default: str | None = None) -> str | None:
        return self._first.get(key, default)


def signing_token(session: Session, settings: TelephonySettings) -> str:
    """TWILIO_AUTH_TOKEN when set; otherwise the sandbox's own token, generated once and kept in the database."""
    if settings.twilio_auth_token is not None:
        return settings.twilio_auth_token.get_secret_value()
    insert_ignore(session, AppSecret, {"name": SANDBOX_TOKEN_NAME, "value": secrets.token_hex(16)}, ["name"])
    session.commit()
    return session.scalar(select(AppSecret.value).where(AppSecret.name == SANDBOX_TOKEN_NAME))


def sign(token: str, url: str, pairs: Iterable[tuple[str, str]]) -> str:
    return RequestValidator(token).compute_signature(url, FormPairs(pairs))


def is_valid(token: str, url: str, pairs: Iterable[tuple[str, str]], signature: str | None) -> bool:
    """Checks the URL with and without its default port, as Twilio may sign either."""
    if not signature:
        return False
    return RequestValidator(token).validate(url, FormPairs(pairs), signature)
