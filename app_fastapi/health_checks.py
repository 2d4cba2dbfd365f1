"""The health check's probes: each dependency of the installation, each bounded to about 1 s.

    database     the central database answers SELECT 1 (its circuit open: down, not tried)
    sessions     Redis answers PING, when CAMET_SESSION_BACKEND=redis
    rate_limits  Redis answers PING, when CAMET_RATELIMIT_STORAGE_URI is redis://
    var_dir      var/ takes a small file (file sessions, uploads, generated secrets, SQLite)

A probe returns None when its dependency works, else the cause (for the log only: it may name
hosts and paths). A dependency that goes down or comes back is logged once per change
(core/outage_log.py); the Redis and disk probes are the ones sessions and limits use.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from core.db_budget import HEALTH_WAIT_S, waiting_up_to
from core.db_circuit import observing
from core.db_errors import unavailable_cause
from core.disk_errors import unwritable_reason
from core.errors import CametError
from core.outage_log import OutageLog
from core.redis_link import ping_redis, redis_dependencies
from core.runtime import Runtime

log = logging.getLogger(__name__)
Probe = Callable[[], "str | None"]
REDIS_ROLES = ("sessions", "rate_limits")  # the caches degrade on their own: not a health matter


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


class HealthChecks:
    """The probes of one runtime and each dependency's outage state (logged once per change)."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._outages: dict[str, OutageLog] = {}
        self._lock = threading.Lock()

    def probes(self) -> dict[str, Probe]:
        """The dependencies this installation has, by name."""
        settings = self.rt.settings
        found: dict[str, Probe] = {"database": lambda: database_probe(self.rt)}
        for role, url in redis_dependencies(settings).items():
            if role in REDIS_ROLES:
                found[role] = lambda url=url: ping_redis(url, HEALTH_WAIT_S)
        found["var_dir"] = lambda: unwritable_reason(settings.var_dir)
        return found

    def note(self, name: str, cause: str | None) -> None:
        """Log a dependency's change of state once."""
        with self._lock:
            outage = self._outages.get(name)
            if outage is None:
                outage = self._outages[name] = OutageLog(log, f"health: {name}")
        if cause is None:
            outage.ok()
        else:
            outage.failed(cause, "health says degraded")

    def close(self) -> None:
        """Nothing held open: probes open and close their own connections."""


def health_checks(rt: Runtime) -> HealthChecks:
    """The runtime's probes (built once)."""
    return rt.part("health_checks", lambda: HealthChecks(rt))
