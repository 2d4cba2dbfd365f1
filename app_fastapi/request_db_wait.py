"""Every engine request waits for the database at most CAMET_DB_TIMEOUT_S per answer.

Plain ASGI and outermost, so the budget (core/db_budget.py) is set before any dependency or
route opens a connection; FastAPI's thread pool copies it into the threads that run sync code.
Dashboard reads set their own, longer one (query/readers/deadline.py `dashboard_wait`).
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from core.db_budget import waiting_up_to


class RequestDbWait:
    """Sets the database wait of each HTTP request to `seconds()`."""

    def __init__(self, app: ASGIApp, seconds: Callable[[], float]) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with waiting_up_to(self.seconds()):
            await self.app(scope, receive, send)
