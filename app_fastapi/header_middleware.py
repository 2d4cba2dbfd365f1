"""Engine security layer: secure headers on every response (errors included), no `server`
header, no tracebacks. (A 429's Retry-After comes from the CametError handler in main.py.)

`SecurityMiddleware` is plain ASGI and sits outside the exception handlers, so even a crash
deep in a route becomes a bare JSON 500 that still carries the headers. HTML answers (only the
Swagger page) get a CSP that allows exactly the hashes of their inline scripts.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from collections.abc import Callable, Collection, Mapping

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app_fastapi.edge_guard import EdgeGuard
from identity.request_limits import ENGINE_BODY_LIMITS
from identity.secure_headers import API_CSP, docs_csp, secure_headers

log = logging.getLogger(__name__)

_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)
_INTERNAL = b'{"error":"internal","message":"internal error"}'


def _hashes(body: bytes) -> list[str]:
    return [base64.b64encode(hashlib.sha256(m).digest()).decode() for m in _INLINE_SCRIPT.findall(body)]


def _decorate(message: Message, *, https: bool, csp: str) -> None:
    headers = MutableHeaders(scope=message)
    if "server" in headers:
        del headers["server"]
    for name, value in secure_headers(csp=csp, https=https).items():
        headers[name] = value
    headers.setdefault("cache-control", "no-store")


class SecurityMiddleware:
    """Adds the headers to every HTTP response and turns escaped exceptions into a JSON 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"
        state: dict[str, object] = {"started": False, "start": None, "body": b""}

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["started"] = True
                ctype = MutableHeaders(scope=message).get("content-type", "")
                if ctype.startswith("text/html"):
                    state["start"] = message
                    return
                _decorate(message, https=https, csp=API_CSP)
                await send(message)
                return
            if message["type"] == "http.response.body" and state["start"] is not None:
                state["body"] = bytes(state["body"]) + message.get("body", b"")
                if message.get("more_body", False):
                    return
                start = state["start"]
                _decorate(start, https=https, csp=docs_csp(_hashes(state["body"])))
                await send(start)
                await send({"type": "http.response.body", "body": state["body"], "more_body": False})
                return
            await send(message)

        try:
            await self.app(scope, receive, wrapped)
        except Exception:
            log.exception("unhandled engine error on %s %s", scope.get("method"), scope.get("path"))
            if state["started"]:
                return
            start = {"type": "http.response.start", "status": 500,
                     "headers": [(b"content-type", b"application/json"),
                                 (b"content-length", str(len(_INTERNAL)).encode())]}
            _decorate(start, https=https, csp=API_CSP)
            await send(start)
            await send({"type": "http.response.body", "body": _INTERNAL})


def install(app: FastAPI, *, trusted_hosts: Callable[[], list[str]],
            body_limits: Mapping[str, int] = ENGINE_BODY_LIMITS, streamed: Collection[str] = ()) -> None:
    """Add the edge guard (hosts, body sizes) and the header middleware."""
    app.add_middleware(EdgeGuard, trusted_hosts=trusted_hosts, limits=body_limits, streamed=streamed)
    app.add_middleware(SecurityMiddleware)
