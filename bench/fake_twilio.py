"""A minimal local fake of Twilio's Messages endpoint, on loopback, for benchmarks.

POST /2010-04-01/Accounts/{AccountSid}/Messages.json answers 201 with a body shaped like Twilio's (what the
SDK's MessageInstance reads: sid "SM" + 32 hex, status "queued", price null, ...). GET and POST on
Messages/{sid}.json (fetch, cancel) answer with the same shape; anything else is a Twilio-style 404.

It is a `ThreadingHTTPServer` in a daemon thread speaking HTTP/1.1 with keep-alive and TCP_NODELAY, writing
each response in one send, so a client reusing its connection pays one loopback round trip per request.

    with fake_twilio() as (base_url, counter):
        ...  # TwilioProvider(TelephonySettings(twilio_api_base_url=base_url, ...))
        counter.value  # requests answered so far
"""

import json
import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

API_VERSION = "2010-04-01"
_MESSAGES = re.compile(rf"^/{API_VERSION}/Accounts/(AC[0-9A-Za-z]+)/Messages"
                       r"(?:/((?:SM|MM)[0-9a-f]{32}))?\.json$")


class Counter:
    """Requests answered, thread-safe (the server handles each connection in its own thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.value = 0
        self.messages_created = 0

    def add(self, created: bool) -> None:
        with self._lock:
            self.value += 1
            if created:
                self.messages_created += 1


def message_body(account_sid: str, sid: str, pairs: list[tuple[str, str]], status: str = "queued") -> dict:
    """A Message resource as Twilio returns it (dates in RFC 2822, price null until the carrier bills)."""
    now = datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
    uri = f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}.json"
    form = dict(pairs)
    media = sum(1 for key, _ in pairs if key == "MediaUrl")
    return {
        "account_sid": account_sid,
        "api_version": API_VERSION,
        "body": form.get("Body", ""),
        "date_created": now,
        "date_sent": None,
        "date_updated": now,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": form.get("From"),
        "messaging_service_sid": form.get("MessagingServiceSid"),
        "num_media": str(media),
        "num_segments": "1",
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": status,
        "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
        "to": form.get("To"),
        "uri": uri,
    }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the SDK's httpx client reuses one connection
    disable_nagle_algorithm = True
    server: "_Server"

    def log_message(self, format: str, *args) -> None:
        pass

    def _reply(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        head = (f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}\r\n"
                "Content-Type: application/json; charset=utf-8\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        self.wfile.write(head + body)  # one write: no Nagle / delayed-ACK stall between headers and body

    def _form(self) -> list[tuple[str, str]]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        return parse_qsl(raw.decode(), keep_blank_values=True)

    def _route(self, method: str) -> None:
        form = self._form() if method == "POST" else []
        match = _MESSAGES.match(self.path.split("?", 1)[0])
        if match is None:
            self.server.counter.add(False)
            self._reply(404, {"code": 20404, "message": f"The requested resource {self.path} was not found",
                              "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404})
            return
        account_sid, sid = match.groups()
        if sid is None and method == "POST":
            self.server.counter.add(True)
            self._reply(201, message_body(account_sid, "SM" + secrets.token_hex(16), form))
        elif sid is not None:
            self.server.counter.add(False)
            self._reply(200, message_body(account_sid, sid, form, dict(form).get("Status", "queued")))
        else:
            self.server.counter.add(False)
            self._reply(200, {"messages": [], "page": 0, "page_size": 50, "next_page_uri": None,
                              "uri": self.path})

    def do_POST(self) -> None:
        self._route("POST")

    def do_GET(self) -> None:
        self._route("GET")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    counter: Counter


@contextmanager
def fake_twilio() -> Iterator[tuple[str, Counter]]:
    """Serve the fake on 127.0.0.1 (a free port) and yield (base URL, request counter); stop it on exit."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.counter = Counter()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
                              name="fake-twilio")
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.counter
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
