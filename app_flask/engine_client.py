"""The one way Flask views reach the engine: the same HTTP contract in-process or remote.

With `CAMET_ENGINE_URL` unset the client talks to the engine's WSGI app in this process
(Passenger: no hop through Apache, so a one-worker pool cannot deadlock); with it set, over
HTTP to a separately running engine (dual-server mode).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import httpx
from flask import current_app

from app_flask.errors import EngineError, EngineUnavailable
from app_flask.login_session import engine_token
from core.errors import SettingsError
from core.runtime import Runtime

IN_PROCESS_BASE = "http://engine.internal"


class EngineClient:
    """Thin synchronous client; views call `get`/`post` with a path under /api/v1."""

    def __init__(
        self,
        *,
        base_url: str | None = None,
        wsgi_app: Callable | None = None,
        timeout_s: float = 60.0,
    ) -> None:
        if base_url:
            self.mode = "http"
            self._client = httpx.Client(base_url=base_url, timeout=timeout_s)
        elif wsgi_app is not None:
            self.mode = "in-process"
            transport = httpx.WSGITransport(app=wsgi_app)
            self._client = httpx.Client(transport=transport, base_url=IN_PROCESS_BASE, timeout=timeout_s)
        else:
            raise SettingsError("EngineClient needs base_url or wsgi_app")

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json: Any = None,
        content: Iterable[bytes] | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Send one request; raises EngineUnavailable when the engine cannot be reached.

        `content` streams a body (a file upload) chunk by chunk instead of a JSON document.
        """
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        try:
            return self._client.request(method, path, json=json, content=content, params=params,
                                        headers=all_headers)
        except httpx.TransportError as exc:
            raise EngineUnavailable(f"engine unreachable: {exc.__class__.__name__}") from None

    def stream(self, method: str, path: str, *, token: str | None = None, json: Any = None,
               params: dict[str, Any] | None = None) -> httpx.Response:
        """Send one request and return the response unread (large downloads): the caller
        iterates `iter_bytes()` and closes it."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        request = self._client.build_request(method, path, json=json, params=params, headers=headers)
        try:
            return self._client.send(request, stream=True)
        except httpx.TransportError as exc:
            raise EngineUnavailable(f"engine unreachable: {exc.__class__.__name__}") from None

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send one request and return its JSON; non-2xx answers raise EngineError."""
        response = self.request(method, path, **kwargs)
        try:
            body = response.json()
        except ValueError:
            body = {"error": "bad_response", "message": "engine answered without JSON"}
        if response.is_success:
            return body
        retry = response.headers.get("Retry-After", "")
        raise EngineError(response.status_code, body if isinstance(body, dict) else {"detail": body},
                          retry_after_s=int(retry) if retry.isdigit() else None)

    def close(self) -> None:
        self._client.close()


def current_engine() -> EngineClient:
    """This app's engine client (the factory keeps it in `app.extensions["camet_engine"]`)."""
    return current_app.extensions["camet_engine"]


def call_engine(method: str, path: str, *, token: str | None = None, **kwargs: Any) -> Any:  # noqa: ANN401 - JSON
    """One engine call for the signed-in user (or with `token`): its JSON, else EngineError."""
    return current_engine().json(method, path, token=token or engine_token(), **kwargs)


def default_client(rt: Runtime, engine_wsgi: Callable | None = None) -> EngineClient:
    """HTTP when an engine URL is configured, else the in-process engine on the same runtime."""
    if rt.settings.engine_url:
        return EngineClient(base_url=rt.settings.engine_url)
    if engine_wsgi is None:
        from app_fastapi.wsgi import engine_wsgi as build_engine_wsgi

        engine_wsgi = build_engine_wsgi(lambda: rt)
    return EngineClient(wsgi_app=engine_wsgi)
