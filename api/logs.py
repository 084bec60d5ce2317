"""Structured JSON logs with secrets masked before they are written."""

import json
import logging
import re
import sys
from datetime import UTC, datetime

_SECRET_PATTERNS = [
    re.compile(r"cody_[A-Za-z0-9_\-]{20,}"),
    re.compile(r"(?i)(authorization|x-twilio-signature|x-slack-signature|auth_token|api_key|password)([\"']?\s*[:=]\s*[\"']?)([^\s\"',}]+)"),
    re.compile(r"(?i)\b(basic|bearer)\s+[A-Za-z0-9+/=._\-]{8,}"),
]


def redact(text: str) -> str:
    """Mask API keys, tokens and signatures in a log message."""
    text = _SECRET_PATTERNS[0].sub("cody_***", text)
    text = _SECRET_PATTERNS[1].sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)
    return _SECRET_PATTERNS[2].sub(lambda m: f"{m.group(1)} ***", text)


def utc_time(record: logging.LogRecord) -> str:
    """When the record was made, in UTC with its zone and milliseconds: lines from machines in other zones sort."""
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": utc_time(record),
            "level": record.levelname,
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        for key in ("organization_id", "activity_id", "path", "status", "event"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry)


class RedactingFilter(logging.Filter):
    """Masks secrets for handlers that keep their own formatter (uvicorn's, pytest's caplog)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = ()
        return True


class PlainFormatter(logging.Formatter):
    """`LOG_JSON=false`: one readable line per record (tracebacks follow), secrets masked in all of it."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return utc_time(record)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


HANDLER_NAME = "cody"
# Request tracing of the HTTP libraries (one INFO line per request; the Twilio SDK's is eight, headers included)
# is kept for LOG_LEVEL=DEBUG.
CHATTY_LOGGERS = ("httpx", "httpcore", "tools.telephony.httpx_client", "twilio")
# Loggers uvicorn gives handlers and levels of its own when it sets up logging itself (`uvicorn ... --factory`, which
# calls create_app after): their records go to the root logger's handler, at LOG_LEVEL, as under `cody serve`.
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


def configure_logging(level: str = "INFO", as_json: bool = True) -> None:
    """Send every log record, Cody's and uvicorn's, to stderr as one line (JSON unless `as_json` is false), masked.

    Called once by the processes Cody runs: `cody serve` and `cody worker`, and `create_app()` when it reads its own
    settings (`uvicorn api.app:create_app --factory`). A create_app given its settings (tests, other embedders, `cody
    serve` itself) leaves logging alone, so they keep their own (pytest's caplog). A second call replaces the handler
    the first installed and leaves any other handler of the root logger alone.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if as_json else PlainFormatter())
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [h for h in root.handlers if h.get_name() != HANDLER_NAME] + [handler]
    root.setLevel(level.upper())
    for name in UVICORN_LOGGERS:
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
        uvicorn_logger.setLevel(logging.NOTSET)
    quiet = level.upper() != "DEBUG"
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING if quiet else logging.NOTSET)
