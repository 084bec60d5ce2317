"""Request body limits: pure ASGI middleware that answers 413 before a large body is held in memory.

The limit is `ApiSettings.max_body_bytes` (read from the app's settings at each request; 0 turns it off), or a
larger one for paths given in `overrides` (the voice command's audio upload). A declared Content-Length over the
limit is answered at once, without reading the body; a body sent without one (chunked) is counted as it streams
and refused as soon as it goes over. Either way the answer is Close's error shape:
413 `{"error": "Request body too large (limit N bytes)."}`.
"""

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse


def too_large_message(limit: int) -> str:
    return f"Request body too large (limit {limit} bytes)."


class BodyTooLarge(HTTPException):
    """Raised from `receive` when a streamed body goes over the limit; the app's HTTPException handler (or this
    middleware, if nothing answered yet) turns it into the 413."""

    def __init__(self, limit: int):
        super().__init__(413, too_large_message(limit), headers={"Connection": "close"})
        self.limit = limit


class BodyLimit:
    def __init__(self, app, overrides: dict[str, int] | None = None):
        self.app = app
        self.overrides = dict(overrides or {})

    def limit_for(self, scope) -> int:
        for prefix, limit in self.overrides.items():
            if scope["path"].startswith(prefix):
                return limit
        settings = getattr(getattr(scope.get("app"), "state", None), "settings", None)
        return int(getattr(settings, "max_body_bytes", 0) or 0)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        if limit <= 0:
            await self.app(scope, receive, send)
            return
        declared = next((v for k, v in scope.get("headers", ()) if k == b"content-length"), None)
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            await _refuse(scope, receive, send, limit)
            return

        received = 0
        started = False

        async def counting_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await _refuse(scope, receive, send, limit)


async def _refuse(scope, receive, send, limit: int) -> None:
    # Close the connection: the rest of the body is never read, so it can't be reused for the next request.
    response = JSONResponse({"error": too_large_message(limit)}, status_code=413, headers={"Connection": "close"})
    await response(scope, receive, send)
