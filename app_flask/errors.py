"""The page app's own errors: the engine cannot be reached or refused, the sessions are down.

Domain errors live in core/errors.py; these three only exist where the pages talk to the
engine (app_flask/engine_client.py) or keep their sessions (app_flask/session_store.py).

    DatabaseUnavailable (503, core/errors.py)
    └── EngineUnavailable          the engine does not answer
    CametError (core/errors.py)
    ├── EngineError                a non-2xx engine answer, with the engine's status and body
    └── SessionStoreDown (503)     sessions cannot be read or written (Redis down, a full or
                                   read-only disk)
"""

from __future__ import annotations

from typing import Any

from core.errors import CametError, DatabaseUnavailable

SESSION_RETRY_AFTER_S = 30  # seconds a client waits before retrying while sessions are down


class EngineUnavailable(DatabaseUnavailable):
    code = "engine_unavailable"


class EngineError(CametError):
    """A non-2xx answer of the engine, with its status and JSON body kept for the view."""

    def __init__(self, status_code: int, body: dict[str, Any], retry_after_s: int | None = None) -> None:
        super().__init__(str(body.get("message") or f"engine answered {status_code}"), details=body)
        self.status_code = status_code
        self.body = body
        self.retry_after_s = retry_after_s


class SessionStoreDown(CametError):
    """The session store cannot be read or written: the request gets the 503 page."""

    status_code = 503
    code = "session_store_unavailable"
    retry_after_s = SESSION_RETRY_AFTER_S
