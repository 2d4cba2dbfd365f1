"""Engine edge checks in plain ASGI, before FastAPI reads anything: trusted Host header, body
size per route (Content-Length first, then the streamed bytes are counted) and the nesting
depth of JSON bodies (before any parser recurses).

The body is buffered (it is at most the route's limit, a few hundred KiB) and replayed to the
app, so an over-long stream is refused with a 413 in the project's error shape before any
parsing, also when it comes without Content-Length (chunked) or through a2wsgi. Routes listed
as `streamed` (file uploads, many MiB) are not buffered: their Content-Length is checked here
and the route itself counts the bytes it writes to disk. An empty Content-Length means none
(PEP 3333 lets a WSGI server send it empty; wsgiref does, and a2wsgi passes it on).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.settings import Settings
from identity.json_depth import TOO_DEEP, json_too_deep
from identity.request_limits import (
    BAD_LENGTH,
    ENGINE_BODY_LIMITS,
    ENGINE_DEFAULT_BODY,
    TOO_LARGE,
    body_limit,
    declared_length,
)
from identity.trusted_hosts import host_is_trusted, log_refused_host

# The in-process engine client's host name (app_flask.engine_client.IN_PROCESS_BASE).
IN_PROCESS_HOST = "engine.internal"


def engine_hosts(settings: Settings) -> list[str]:
    """CAMET_TRUSTED_HOSTS plus the host of CAMET_ENGINE_URL (the pages process calls it)."""
    extra = urlsplit(settings.engine_url).hostname if settings.engine_url else None
    return [*settings.trusted_host_list(), *([extra] if extra else [])]


# Bodies no route parses as JSON (CSV batches and uploads, forms); every other body is scanned,
# also one without a Content-Type (FastAPI then parses JSON).
_NOT_JSON = (b"text/csv", b"application/csv", b"application/x-www-form-urlencoded", b"multipart/")


def _may_be_json(content_type: bytes | None) -> bool:
    kind = (content_type or b"").split(b";")[0].strip().lower()
    return not kind.startswith(_NOT_JSON)


async def _answer(send: Send, status: int, error: str, message: str, *, field: str | None = None) -> None:
    answer: dict[str, object] = {"error": error, "message": message}
    if field is not None:
        answer["details"] = [{"field": field, "message": message}]
    body = json.dumps(answer, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class EdgeGuard:
    """400 for an untrusted Host, 413 for a body over the route's limit, 422 for JSON nested
    deeper than MAX_JSON_DEPTH; else the app."""

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
        host = headers.get(b"host", b"").decode("latin-1")
        if not host_is_trusted(host, [*self.trusted_hosts(), IN_PROCESS_HOST]):
            log_refused_host(host, (scope.get("client") or ("?",))[0])
            await _answer(send, 400, "bad_host", "host no permitido")
            return
        limit = body_limit(self.limits, self.default, scope.get("path", ""))
        try:
            declared = declared_length(headers.get(b"content-length"))
        except ValueError:
            await _answer(send, 400, "bad_request", BAD_LENGTH)
            return
        if declared is not None and declared > limit:
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
        if body and _may_be_json(headers.get(b"content-type")) and json_too_deep(body):
            await _answer(send, 422, "validation", TOO_DEEP, field="body")
            return
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
