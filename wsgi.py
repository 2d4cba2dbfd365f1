"""The composition root: one WSGI app with `/api/...` to the engine and the rest to the pages.

Passenger serves it (passenger_wsgi.py); tests and benchmarks build it here too. It hands the
pages an in-process engine client on the same per-process runtime, so a request never makes an
HTTP hop through Apache to reach the engine.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable

from flask import Flask

from core.runtime import ProcessRuntime, tuned_process_settings


class PathDispatcher:
    """Routes by path prefix; the Flask app is built lazily, once per process."""

    def __init__(self, engine_wsgi: Callable, flask_factory: Callable[[], Flask]) -> None:
        self.engine_wsgi = engine_wsgi
        self._flask_factory = flask_factory
        self._flask: Flask | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()

    def _flask_app(self) -> Flask:
        if self._flask is None or self._pid != os.getpid():
            with self._lock:
                if self._flask is None or self._pid != os.getpid():
                    self._flask = self._flask_factory()
                    self._pid = os.getpid()
        return self._flask

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/api" or path.startswith("/api/"):
            return self.engine_wsgi(environ, start_response)
        return self._flask_app()(environ, start_response)


def build_application(runtimes: ProcessRuntime | None = None) -> PathDispatcher:
    """Flask at `/`, the engine under `/api`: one runtime per process shared by both."""
    from app_fastapi.wsgi import engine_wsgi
    from app_flask.engine_client import default_client
    from app_flask.factory import create_app

    if runtimes is None:  # a server process: tune malloc before its threads make their arenas
        tuned_process_settings()
    runtimes = runtimes or ProcessRuntime()
    engine = engine_wsgi(runtimes.get)

    def flask_factory() -> Flask:
        rt = runtimes.get()
        return create_app(rt, engine=default_client(rt, engine))

    return PathDispatcher(engine, flask_factory)
