"""A minimal local fake of Twilio's Messages endpoint, on loopback, for benchmarks and the scale/fault tests.

POST /2010-04-01/Accounts/{AccountSid}/Messages.json answers 201 with a body shaped like Twilio's (what the
SDK's MessageInstance reads: sid "SM" + 32 hex, status "queued", price null, ...) and keeps the message. GET and
POST on Messages/{sid}.json (fetch, cancel) answer with the same shape (the kept message when the sid is known);
GET Messages.json lists the kept messages newest first, filtered by To, From and DateSent / DateSent< / DateSent>
(whole days, as Twilio does), paged with PageSize and Page (next_page_uri). Anything else is a Twilio-style 404.
A create can be made to take as long as a real carrier's does (`latency_seconds`, `--latency-ms`; default 0), and
every Nth create longer still, as a real carrier's slowest answers are (`slow_every`, `slow_seconds`;
`--slow-every`, `--slow-ms`; default none): counted in the order the creates arrive, so a run is repeatable.
A request whose form ends before its Content-Length (its sender killed mid-request) is not acted on: the
connection is closed without an answer.

Faults, for the next message creates only (`FakeTwilio.fail_next(kind, count)`, or POST /_fake/faults with the
form fields kind and count): "500", "503", "429" (Twilio's error JSON with that status), "400" (code 21211, an
invalid To), "timeout" (no message is created; the answer never comes: the connection is held `stall_seconds`,
then closed) and "drop" (the message IS created, then the connection is closed without an answer: a send whose
answer was lost).

Control, outside Twilio's paths: GET /_fake/messages (every kept message, oldest first: sid, to, from, body,
status, date_created), GET /_fake/stats (requests, messages_created), POST /_fake/faults.

It is a `ThreadingHTTPServer` in a daemon thread speaking HTTP/1.1 with keep-alive and TCP_NODELAY, writing
each response in one send, so a client reusing its connection pays one loopback round trip per request.

    with fake_twilio() as (base_url, counter):
        ...  # TwilioProvider(TelephonySettings(twilio_api_base_url=base_url, ...))
        counter.value  # requests answered so far
        counter.fake   # the FakeTwilio: .messages, .fail_next(...)

    python -m bench.fake_twilio [--port N]   # serve in the foreground; prints FAKE_TWILIO_URL=http://127.0.0.1:N
"""

import argparse
import contextlib
import itertools
import json
import re
import secrets
import signal
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import parse_qsl, urlencode

API_VERSION = "2010-04-01"
_MESSAGES = re.compile(rf"^/{API_VERSION}/Accounts/(AC[0-9A-Za-z]+)/Messages"
                       r"(?:/((?:SM|MM)[0-9a-f]{32}))?\.json$")
FAULTS = ("500", "503", "429", "400", "timeout", "drop")
_FAULT_BODIES = {
    "500": (500, 20500, "Internal Server Error"),
    "503": (503, 20503, "Service Unavailable"),
    "429": (429, 20429, "Too Many Requests"),
    "400": (400, 21211, "The 'To' number is not a valid phone number."),
}


class Counter:
    """Requests answered, thread-safe (the server handles each connection in its own thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.value = 0
        self.messages_created = 0
        self.fake: FakeTwilio | None = None

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


def _error_body(status: int, code: int, message: str) -> dict:
    return {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status}


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


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

    def _form(self) -> list[tuple[str, str]] | None:
        """The request's form; None when the client went away before sending all of it (a sender killed mid-request),
        which Twilio would not act on either."""
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if len(raw) < length:
            return None
        return parse_qsl(raw.decode(), keep_blank_values=True)

    def _hang_up(self) -> None:
        """End the connection without an answer (the client sees it closed, or times out first)."""
        self.close_connection = True

    def _route(self, method: str) -> None:
        form = self._form() if method == "POST" else []
        if form is None:
            self._hang_up()
            return
        path, _, query = self.path.partition("?")
        fake = self.server.fake
        if path.startswith("/_fake/"):
            self._control(method, path, form)
            return
        match = _MESSAGES.match(path)
        if match is None:
            fake.counter.add(False)
            self._reply(404, _error_body(404, 20404, f"The requested resource {self.path} was not found"))
            return
        account_sid, sid = match.groups()
        if sid is None and method == "POST":
            fault = fake.take_fault()
            if fault in _FAULT_BODIES:
                fake.counter.add(False)
                self._reply(_FAULT_BODIES[fault][0], _error_body(*_FAULT_BODIES[fault]))
            elif fault == "timeout":
                time.sleep(fake.stall_seconds)
                self._hang_up()
            else:
                wait = fake.answer_time()
                if wait:
                    time.sleep(wait)  # a real carrier's API takes tens to hundreds of ms to answer
                created = fake.create(account_sid, form)
                fake.counter.add(True)
                if fault == "drop":
                    self._hang_up()
                else:
                    self._reply(201, created)
        elif sid is not None:
            fake.counter.add(False)
            status = dict(form).get("Status")
            kept = fake.get(sid, status)
            self._reply(200, kept or message_body(account_sid, sid, form, status or "queued"))
        else:
            fake.counter.add(False)
            self._reply(200, fake.page(account_sid, path, dict(parse_qsl(query, keep_blank_values=True))))

    def _control(self, method: str, path: str, form: list[tuple[str, str]]) -> None:
        fake = self.server.fake
        if path == "/_fake/messages" and method == "GET":
            self._reply(200, {"messages": fake.dump()})
        elif path == "/_fake/stats" and method == "GET":
            self._reply(200, {"requests": fake.counter.value, "messages_created": fake.counter.messages_created})
        elif path == "/_fake/faults" and method == "POST":
            fields = dict(form)
            try:
                fake.fail_next(fields.get("kind", ""), int(fields.get("count", "1")))
            except ValueError as exc:
                self._reply(400, {"message": str(exc)})
                return
            self._reply(200, {"pending_faults": fake.pending_faults()})
        else:
            self._reply(404, {"message": f"no control endpoint {method} {path}"})

    def do_POST(self) -> None:
        self._route("POST")

    def do_GET(self) -> None:
        self._route("GET")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: "FakeTwilio"


class FakeTwilio:
    """The fake's state (kept messages, pending faults) and its server; `start()`/`stop()` or use it as a context."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, stall_seconds: float = 3.0,
                 latency_seconds: float = 0.0, slow_every: int = 0, slow_seconds: float = 0.0):
        self.stall_seconds = stall_seconds
        self.latency_seconds = latency_seconds
        self.slow_every = slow_every
        self.slow_seconds = slow_seconds
        self._creates = itertools.count(1)
        self.counter = Counter()
        self.counter.fake = self
        self._lock = threading.Lock()
        self._messages: dict[str, dict] = {}  # sid -> resource, in creation order
        self._faults: deque[str] = deque()
        self._server = _Server((host, port), _Handler)
        self._server.fake = self
        self._thread: threading.Thread | None = None
        self.url = f"http://{host}:{self._server.server_address[1]}"

    def answer_time(self) -> float:
        """How long the create arriving now waits before it is answered."""
        arrived = next(self._creates)
        if self.slow_every and arrived % self.slow_every == 0:
            return self.slow_seconds
        return self.latency_seconds

    # -- faults ----------------------------------------------------------------------------------------------

    def fail_next(self, kind: str, count: int = 1) -> None:
        """The next `count` message creates fail as `kind` (one of FAULTS), after any faults already queued."""
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}; use one of {', '.join(FAULTS)}")
        with self._lock:
            self._faults.extend([kind] * count)

    def pending_faults(self) -> int:
        with self._lock:
            return len(self._faults)

    def take_fault(self) -> str | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    # -- messages --------------------------------------------------------------------------------------------

    def create(self, account_sid: str, form: list[tuple[str, str]]) -> dict:
        sid = "SM" + secrets.token_hex(16)
        resource = message_body(account_sid, sid, form)
        resource["date_sent"] = resource["date_created"]
        with self._lock:
            self._messages[sid] = resource
        return resource

    def get(self, sid: str, new_status: str | None = None) -> dict | None:
        with self._lock:
            kept = self._messages.get(sid)
            if kept is not None and new_status:
                kept["status"] = new_status
            return dict(kept) if kept is not None else None

    @property
    def messages(self) -> list[dict]:
        """Every message created so far, oldest first (copies)."""
        with self._lock:
            return [dict(m) for m in self._messages.values()]

    def dump(self) -> list[dict]:
        return [{key: m[key] for key in ("sid", "to", "from", "body", "status", "date_created")}
                for m in self.messages]

    def page(self, account_sid: str, path: str, query: dict[str, str]) -> dict:
        """One page of Messages.json, newest first, filtered like Twilio's list."""
        to, from_ = query.get("To"), query.get("From")
        on, before, after = (_day(query[k]) if k in query else None for k in ("DateSent", "DateSent<", "DateSent>"))
        try:
            size = max(1, min(1000, int(query.get("PageSize", "50"))))
            number = max(0, int(query.get("Page", "0")))
        except ValueError:
            size, number = 50, 0
        with self._lock:
            kept = list(self._messages.values())
        found = []
        for m in reversed(kept):
            if m["account_sid"] != account_sid or (to and m["to"] != to) or (from_ and m["from"] != from_):
                continue
            sent = parsedate_to_datetime(m["date_sent"]).date() if m["date_sent"] else None
            if (on or before or after) and sent is None:
                continue
            if (on and sent != on) or (before and sent and sent > before) or (after and sent and sent < after):
                continue
            found.append(m)
        chunk = [dict(m) for m in found[number * size:(number + 1) * size]]
        base = {k: v for k, v in query.items() if k not in ("Page", "PageToken")}

        def uri(n: int) -> str:
            return f"{path}?{urlencode({**base, 'PageSize': size, 'Page': n})}"

        more = (number + 1) * size < len(found)
        return {"messages": chunk, "page": number, "page_size": size, "start": number * size,
                "end": number * size + len(chunk) - 1, "uri": uri(number), "first_page_uri": uri(0),
                "previous_page_uri": uri(number - 1) if number else None,
                "next_page_uri": uri(number + 1) if more else None}

    # -- lifecycle -------------------------------------------------------------------------------------------

    def start(self) -> Self:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True, name="fake-twilio")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


@contextmanager
def fake_twilio(**options) -> Iterator[tuple[str, Counter]]:
    """Serve the fake on 127.0.0.1 (a free port) and yield (base URL, request counter); stop it on exit.

    `options` go to FakeTwilio (stall_seconds); `counter.fake` is the FakeTwilio itself.
    """
    with FakeTwilio(**options) as fake:
        yield fake.url, fake.counter


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--stall-seconds", type=float, default=3.0)
    parser.add_argument("--latency-ms", type=float, default=0.0, help="wait this long before answering a create")
    parser.add_argument("--slow-every", type=int, default=0, help="every Nth create waits --slow-ms instead")
    parser.add_argument("--slow-ms", type=float, default=0.0)
    args = parser.parse_args()
    fake = FakeTwilio(args.host, args.port, args.stall_seconds, args.latency_ms / 1000, args.slow_every,
                      args.slow_ms / 1000).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"FAKE_TWILIO_URL={fake.url}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    fake.stop()


if __name__ == "__main__":
    main()
