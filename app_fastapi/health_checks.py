"""The health check's probes: each dependency of the installation, each bounded to about 1 s.

    database     the central database answers SELECT 1 (its circuit open: down, not tried)
    sessions     Redis answers PING, when CAMET_SESSION_BACKEND=redis
    rate_limits  Redis answers PING, when CAMET_RATELIMIT_STORAGE_URI is redis://
    var_dir      var/ takes a small file (file sessions, uploads, generated secrets, SQLite)

A probe returns None when its dependency works, else the cause (for the log only: it may name
hosts and paths). A dependency that goes down or comes back is logged once per change.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Callable

import redis
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from core.db_budget import HEALTH_WAIT_S, waiting_up_to
from core.db_circuit import observing
from core.db_errors import unavailable_cause
from core.errors import CametError
from core.runtime import Runtime

log = logging.getLogger(__name__)
Probe = Callable[[], "str | None"]


def database_probe(rt: Runtime) -> str | None:
    """The central database answers within HEALTH_WAIT_S; a failure here reports but does not
    open the circuit (requests, with their longer wait, decide that)."""
    if rt.db.known_down(rt.db.central_url):
        return "its server did not answer moments ago (circuit open)"
    try:
        with observing(), waiting_up_to(HEALTH_WAIT_S), rt.db.central_engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except (SQLAlchemyError, CametError) as exc:
        return unavailable_cause(exc) or str(exc).splitlines()[0][:200]
    return None


def var_dir_probe(rt: Runtime) -> str | None:
    """var/ accepts a small file (created and removed at once: no debris)."""
    directory = rt.settings.var_dir
    try:
        fd, path = tempfile.mkstemp(prefix=".health-", dir=directory)
        try:
            os.write(fd, b"ok")
        finally:
            os.close(fd)
            os.unlink(path)
    except OSError as exc:
        return f"{directory}: {exc.strerror or exc}"
    return None


def is_redis_url(url: str) -> bool:
    return url.startswith(("redis://", "rediss://", "unix://"))


class HealthChecks:
    """The probes of one runtime, their Redis clients (1 s timeouts) and the last known states."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._clients: dict[str, redis.Redis] = {}
        self._last: dict[str, bool] = {}
        self._lock = threading.Lock()

    def probes(self) -> dict[str, Probe]:
        """The dependencies this installation has, by name."""
        settings = self.rt.settings
        found: dict[str, Probe] = {"database": lambda: database_probe(self.rt)}
        if settings.session_backend == "redis":
            found["sessions"] = lambda: self._redis_probe(settings.redis_url)
        if is_redis_url(settings.ratelimit_storage_uri):
            found["rate_limits"] = lambda: self._redis_probe(settings.ratelimit_storage_uri)
        found["var_dir"] = lambda: var_dir_probe(self.rt)
        return found

    def _redis_probe(self, url: str) -> str | None:
        with self._lock:
            client = self._clients.get(url)
            if client is None:
                client = self._clients[url] = redis.Redis.from_url(
                    url, socket_timeout=HEALTH_WAIT_S, socket_connect_timeout=HEALTH_WAIT_S)
        try:
            client.ping()
        except redis.RedisError as exc:
            return f"Redis: {type(exc).__name__}: {str(exc)[:200]}"
        return None

    def note(self, name: str, cause: str | None) -> None:
        """Log a dependency's change of state once (the first result counts as a change only
        when it is a failure)."""
        with self._lock:
            before = self._last.get(name, True)
            self._last[name] = cause is None
        if before and cause is not None:
            log.warning("health: %s is down (%s)", name, cause)
        elif not before and cause is None:
            log.warning("health: %s answers again", name)

    def close(self) -> None:
        with self._lock:
            clients = list(self._clients.values())
            self._clients.clear()
        for client in clients:
            client.close()


def health_checks(rt: Runtime) -> HealthChecks:
    """The runtime's probes (built once)."""
    return rt.part("health_checks", lambda: HealthChecks(rt))
