"""A per-process circuit per database server: once it fails to answer, fail at once for a while.

    closed   connects go through
    open     the server did not answer (a connect or an answer timed out, the connection was
             lost or refused): connects fail at once with DatabaseCircuitOpen for `retry_s`;
             then one connect goes through as a probe (and re-arms the wait), success closes

Without it every request would wait its whole budget again on a server that hangs, and the page
server's few threads would all be waiting. Failures seen while `observing()` (the health check,
with its tighter wait) do not open a closed circuit. The first failure and the recovery are
logged once each, with the cause; times are the process's monotonic clock, like the timeouts.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import pymysql

from core.db_errors import UNAVAILABLE_MESSAGE
from core.errors import DatabaseUnavailable

log = logging.getLogger(__name__)
CONNECT_FAILED = 2003  # the client library's "cannot connect" error number

_observing: ContextVar[bool] = ContextVar("camet_db_observing", default=False)


class DatabaseCircuitOpen(DatabaseUnavailable, pymysql.err.OperationalError):
    """Raised instead of connecting while the server's circuit is open. It is a failed connect to
    the code that catches driver errors (SQLAlchemy wraps it like any OperationalError) and a
    DatabaseUnavailable to everything else."""

    def __init__(self, server: str, retry_after_s: int) -> None:
        DatabaseUnavailable.__init__(self, UNAVAILABLE_MESSAGE, retry_after_s=retry_after_s,
                                     cause=f"database server {server} did not answer moments ago")
        self.args = (CONNECT_FAILED, f"not tried: {server} did not answer moments ago")

    def __str__(self) -> str:
        return str(self.args[1])


@dataclass
class _Server:
    opened_at: float | None = None  # None: closed
    down_since: float = 0.0


class DatabaseCircuit:
    """The circuits of one runtime's database servers (keyed `host:port`), safe across threads."""

    def __init__(self, retry_s: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.retry_s = retry_s
        self._now = monotonic
        self._servers: dict[str, _Server] = {}
        self._lock = threading.Lock()

    def before_connect(self, server: str) -> None:
        """Raise DatabaseCircuitOpen while `server` is known down; once per `retry_s` a connect
        goes through to find out whether it is back."""
        with self._lock:
            state = self._servers.get(server)
            if state is None or state.opened_at is None:
                return
            now = self._now()
            left = state.opened_at + self.retry_s - now
            if left <= 0:
                state.opened_at = now  # this connect is the probe; the others wait for its verdict
                return
        raise DatabaseCircuitOpen(server, retry_after_s=max(1, round(left)))

    def is_open(self, server: str) -> bool:
        """Whether connects to `server` fail at once right now (no probe is due)."""
        with self._lock:
            state = self._servers.get(server)
            return bool(state and state.opened_at is not None
                        and self._now() - state.opened_at < self.retry_s)

    def failed(self, server: str, cause: str) -> None:
        """`server` did not answer: open (or keep open) its circuit."""
        with self._lock:
            state = self._servers.setdefault(server, _Server())
            first = state.opened_at is None
            if first and _observing.get():
                return
            now = self._now()
            state.opened_at = now
            if first:
                state.down_since = now
        if first:
            log.warning("database server %s does not answer (%s); requests fail at once for %g s "
                        "between retries", server, cause, self.retry_s)
        else:
            log.debug("database server %s still does not answer (%s)", server, cause)

    def succeeded(self, server: str) -> None:
        """A connection to `server` opened: close its circuit."""
        with self._lock:
            state = self._servers.get(server)
            if state is None or state.opened_at is None:
                return
            state.opened_at = None
            down_s = self._now() - state.down_since
        log.warning("database server %s answers again (after %.1f s)", server, down_s)


@contextmanager
def observing() -> Iterator[None]:
    """Failures inside report but do not open a closed circuit (the health check)."""
    token = _observing.set(True)
    try:
        yield
    finally:
        _observing.reset(token)
