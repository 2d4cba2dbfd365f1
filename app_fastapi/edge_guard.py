"""Engine edge checks in plain ASGI, before FastAPI reads anything: trusted Host header and
body size per route (Content-Length first, then the streamed bytes are counted).

The body is buffered (it is at most the route's limit, a few hundred KiB) and replayed to the
app, so an over-long stream is refused with a 413 in the project's error shape before any
parsing, also when it comes without Content-Length (chunked) or through a2wsgi. Routes listed
as `streamed` (file uploads, many MiB) are not buffered: their Content-Length is checked here
and the route itself counts the bytes it writes to disk.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from werkzeug.sansio.utils import host_is_trusted

from core.settings import Settings
from identity.request_limits import ENGINE_BODY_LIMITS, ENGINE_DEFAULT_BODY, TOO_LARGE, body_limit

# The in-process engine client's host name (app_flask.engine_client.IN_PROCESS_BASE).
IN_PROCESS_HOST = "engine.internal"


def engine_hosts(settings: Settings) -> list[str]:
    """CAMET_TRUSTED_HOSTS plus the host of CAMET_ENGINE_URL (the pages process calls it)."""
    extra = urlsplit(settings.engine_url).hostname if settings.engine_url else None
    return [*settings.trusted_host_list(), *([extra] if extra else [])]


async def _answer(send: Send, status: int, error: str, message: str) -> None:
    body = json.dumps({"error": error, "message": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class EdgeGuard:
    """400 for an untrusted Host, 413 for a body over the route's limit; else the app."""

    def __init__(self, app: ASGIApp, *, trusted_hosts: Callable[[], list[str]],
                 limits: Mapping[str, int] = ENGINE_BODY_LIMITS, default: int = ENGINE_DEFAULT_BODY,
                 streamed: Collection[str] = ()) -> None:
        self.app = app
        self.trusted_hosts = trusted_hosts
        self.limits = limits
        self.default = default
        self.streamed = frozenset(streamed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        host = headers.get(b"host", b"").decode("latin-1").lower()
        if not host_is_trusted(host, [*self.trusted_hosts(), IN_PROCESS_HOST]):
            await _answer(send, 400, "bad_host", "host no permitido")
            return
        limit = body_limit(self.limits, self.default, scope.get("path", ""))
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _answer(send, 413, "too_large", TOO_LARGE)
            return
        if scope.get("path", "") in self.streamed:
            await self.app(scope, receive, send)
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay(None, message, receive), send)
                return
            body += message.get("body", b"")
            if len(body) > limit:
                await _answer(send, 413, "too_large", TOO_LARGE)
                return
            more = message.get("more_body", False)
        await self.app(scope, _replay(bytes(body), None, receive), send)


def _replay(body: bytes | None, first: Message | None, receive: Receive) -> Receive:
    """A receive that hands out the buffered body (or message) once, then the real one."""
    pending: list[Message] = [first if first is not None
                              else {"type": "http.request", "body": body or b"", "more_body": False}]

    async def replay() -> Message:
        if pending:
            return pending.pop()
        return await receive()

    return replay
