"""The engine as a WSGI app, for Passenger and for Flask's in-process engine client.

a2wsgi's ASGIMiddleware starts an event-loop thread; one built before the server forks hangs
in the child. So the middleware is built lazily, on the first request of each process.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable

from a2wsgi import ASGIMiddleware
from fastapi import FastAPI

from core.runtime import Runtime


class LazyEngineWSGI:
    """A WSGI callable that builds the FastAPI app and its a2wsgi wrapper once per process."""

    def __init__(self, factory: Callable[[], FastAPI]) -> None:
        self._factory = factory
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._app: ASGIMiddleware | None = None

    def _current(self) -> ASGIMiddleware:
        if self._pid != os.getpid() or self._app is None:
            with self._lock:
                if self._pid != os.getpid() or self._app is None:
                    self._app = ASGIMiddleware(self._factory())
                    self._pid = os.getpid()
        return self._app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        return self._current()(environ, start_response)


def engine_wsgi(runtime: Callable[[], Runtime]) -> LazyEngineWSGI:
    """The engine on the runtime `runtime()` returns, built on its first request."""

    def factory() -> FastAPI:
        from app_fastapi.main import create_app

        return create_app(runtime())

    return LazyEngineWSGI(factory)
