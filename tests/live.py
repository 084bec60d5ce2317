"""A live Cody (app + sandbox runtime) whose public URL is its own loopback address.

Webhook signatures are computed over PUBLIC_BASE_URL, and the sandbox posts its callbacks there, so the
runtime must know the server's address before the app is built.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from api.settings import ApiSettings
from tests.api.server import bound_socket, running_server
from tools.runtime import Runtime, build_runtime
from tools.settings import TelephonySettings
from tools.telephony.signing import FormPairs, sign, signing_token
from tools.tls import verifying_context


def http_client(**kwargs: object) -> httpx.Client:
    """An httpx client on the process's one TLS context (a client of its own reads the CA bundle: ~40 ms a test)."""
    return httpx.Client(verify=verifying_context(), **kwargs)


@dataclass
class LiveCody:
    base_url: str
    runtime: Runtime

    def token(self) -> str:
        with self.runtime.factory() as session:
            return signing_token(session, self.runtime.settings)

    def client(self, key: str) -> httpx.Client:
        """An API client with Close's Basic auth: the key as user name, empty password."""
        return http_client(base_url=self.base_url, auth=(key, ""), timeout=30)

    def post_twilio(self, path: str, pairs: list[tuple[str, str]], signature: str | None = "sign") -> httpx.Response:
        """Post a form as Twilio would, signed with the workspace's webhook token unless told otherwise."""
        url = self.base_url + path
        headers = {}
        if signature == "sign":
            headers["X-Twilio-Signature"] = sign(self.token(), url, pairs)
        elif signature is not None:
            headers["X-Twilio-Signature"] = signature
        return self._post(url, data=FormPairs(pairs).as_httpx(), headers=headers)

    def _post(self, url: str, **kwargs: object) -> httpx.Response:
        return httpx.post(url, timeout=30, verify=verifying_context(), **kwargs)


def ok(response: httpx.Response) -> dict:
    """The JSON body of a 200, or a failure showing the body that came instead."""
    assert response.status_code == 200, response.text
    return response.json()


@contextmanager
def live_cody(db_url: str, factory: sessionmaker[Session], run_dispatcher: bool = False,
              **telephony: object) -> Iterator[LiveCody]:
    sock = bound_socket()
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = TelephonySettings(public_base_url=base_url, **telephony)
    runtime = build_runtime(settings, factory, poll_seconds=0.05)
    app = create_app(ApiSettings(database_url=db_url, run_dispatcher=run_dispatcher), factory, runtime)
    with running_server(app, sock) as url:
        yield LiveCody(url, runtime)
