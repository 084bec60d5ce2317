"""ASGI middleware: Close's client doubles slashes and always adds a trailing one; route both forms."""

import re

_SLASHES = re.compile(r"/{2,}")


class NormalisePath:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            path = _SLASHES.sub("/", scope["path"])
            if path.startswith("/api/v1/") and not path.endswith("/"):
                path += "/"
            if path != scope["path"]:
                scope = dict(scope, path=path, raw_path=path.encode())
        await self.app(scope, receive, send)
