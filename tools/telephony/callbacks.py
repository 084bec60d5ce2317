"""How the sandbox reaches the app: a signed HTTP post to its own webhook, exactly as Twilio would."""

import logging

import httpx
from sqlalchemy.orm import Session, sessionmaker

from tools import tls
from tools.settings import TelephonySettings
from tools.telephony.base import CallbackForm
from tools.telephony.signing import FormPairs, sign, signing_token

log = logging.getLogger("cody.sandbox")


class SignedPoster:
    def __init__(self, settings: TelephonySettings, factory: sessionmaker[Session], client: httpx.Client | None = None):
        self.settings = settings
        self.factory = factory
        self.client = client or httpx.Client(timeout=10.0, verify=tls.verifying_context())
        self._token: str | None = None

    def token(self) -> str:
        if self._token is None:
            with self.factory() as session:
                self._token = signing_token(session, self.settings)
        return self._token

    def __call__(self, form: CallbackForm) -> httpx.Response | None:
        """Post the form; the app's answer (TwiML for voice webhooks) is returned, None when unreachable."""
        headers = {"X-Twilio-Signature": sign(self.token(), form.url, form.params)}
        try:
            response = self.client.post(form.url, data=FormPairs(form.params).as_httpx(), headers=headers)
        except httpx.HTTPError as exc:
            log.warning("sandbox callback to %s failed: %s", form.url, exc)
            return None
        if response.status_code >= 400:
            log.warning("sandbox callback to %s answered %s", form.url, response.status_code)
        return response
