"""A `twilio.http.HttpClient` that sends through an `httpx.Client`, so respx can intercept the official SDK.

The SDK builds the full URL, headers and basic auth; this class only moves bytes. Lists in `data` (MediaUrl,
StatusCallbackEvent) go out as repeated form keys, which is what httpx does for a dict of lists. Transport
failures (timeouts, refused connections) surface as `TwilioTransportError`, which the provider turns into a
retryable `ProviderError`.
"""

import logging
from typing import Any

import httpx
from twilio.base.exceptions import TwilioException
from twilio.http import HttpClient
from twilio.http.request import Request as TwilioRequest
from twilio.http.response import Response

from tools import tls

_logger = logging.getLogger("tools.telephony.httpx_client")

_JSON_TYPES = ("application/json", "application/scim+json")


class TwilioTransportError(TwilioException):
    """The request never got an HTTP answer (timeout, refused or dropped connection)."""

    def __init__(self, message: str, *, timeout: bool = False):
        super().__init__(message)
        self.message = message
        self.timeout = timeout


class HttpxTwilioClient(HttpClient):
    """Sends the SDK's requests with the given `httpx.Client`; `timeout` is the default per-request timeout."""

    def __init__(
        self,
        client: httpx.Client | None = None,
        *,
        timeout: float | None = None,
        logger: logging.Logger = _logger,
    ):
        super().__init__(logger, False, timeout)
        self._owns_client = client is None
        self.client = client if client is not None else httpx.Client(timeout=timeout, verify=tls.verifying_context())

    @property
    def last_request(self) -> TwilioRequest | None:
        return self._test_only_last_request

    @property
    def last_response(self) -> Response | None:
        return self._test_only_last_response

    def request(
        self,
        method: str,
        uri: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        if timeout is None:
            timeout = self.timeout
        elif timeout <= 0:
            raise ValueError(timeout)

        method = method.upper()
        kwargs: dict[str, Any] = {
            "method": method,
            "url": uri,
            "params": params,
            "headers": headers,
            "auth": auth,
        }
        if headers and headers.get("Content-Type") in _JSON_TYPES:
            kwargs["json"] = data
        else:
            kwargs["data"] = data
        self.log_request(kwargs)
        self._test_only_last_response = None
        self._test_only_last_request = TwilioRequest(**kwargs)

        send: dict[str, Any] = {
            "params": _clean_params(params),
            "headers": headers,
            "auth": auth,
            "follow_redirects": allow_redirects,
            "timeout": timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
        }
        if "json" in kwargs:
            send["json"] = data
        elif data:
            send["data"] = _clean_form(data)
        try:
            response = self.client.request(method, uri, **send)
        except httpx.TimeoutException as exc:
            raise TwilioTransportError(f"Twilio did not answer in time ({type(exc).__name__}).", timeout=True) from exc
        except httpx.TransportError as exc:
            raise TwilioTransportError(f"Could not reach Twilio ({type(exc).__name__}).") from exc

        self.logger.info("Response Status Code: %s", response.status_code)
        self._test_only_last_response = Response(response.status_code, response.text, dict(response.headers))
        return self._test_only_last_response

    def close(self) -> None:
        if self._owns_client:
            self.client.close()


def _stringify(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _clean_form(data: dict[str, object]) -> dict[str, str | list[str]]:
    """Form fields as strings; lists and tuples stay lists so httpx repeats the key."""
    form: dict[str, str | list[str]] = {}
    for key, value in data.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            form[key] = [_stringify(v) for v in value if v is not None]
        else:
            form[key] = _stringify(value)
    return form


def _clean_params(params: dict[str, object] | None) -> dict[str, str | list[str]] | None:
    return _clean_form(params) if params else None
