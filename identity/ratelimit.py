"""Rate limits shared by both web layers, on the `limits` library and one storage.

Flask-Limiter (Flask pages) and `RateLimiter` (engine routes) read the same storage URI from
settings: memory by default (per process), Redis to hold across processes and hosts. Keys are
prefixed per installation, so two installations sharing a Redis never count together. The
engine's limiters belong to the Runtime and close with it.
"""

from __future__ import annotations

import hashlib
import math
import time

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from core.errors import CametError
from core.runtime import Runtime
from core.settings import Settings

LOGIN_PER_IP = "30 per minute"
LOGIN_PER_USER = "10 per minute"
API_LOGIN_PER_IP = "30 per minute"
API_LOGIN_PER_USER = "10 per minute"
DASHBOARD_RUN_PER_USER = "30 per minute"
ENGINE_DASHBOARD_RUN_PER_USER = "60 per minute"


class RateLimited(CametError):
    """Too many requests for one key; `retry_after_s` seconds until the window frees a slot."""

    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, details={"retry_after": retry_after})
        self.retry_after_s = retry_after


def key_prefix(settings: Settings) -> str:
    """A per-installation namespace derived from the central database URL."""
    digest = hashlib.sha256(settings.resolved_central_db_url().encode()).hexdigest()[:12]
    return f"camet-{digest}"


class RateLimiter:
    """Moving-window limits on one storage; `hit` raises RateLimited when a limit is spent."""

    def __init__(self, storage_uri: str, prefix: str) -> None:
        self.storage = storage_from_string(storage_uri)
        self.strategy = MovingWindowRateLimiter(self.storage)
        self.prefix = prefix

    def hit(self, limit: str, scope: str, *identifiers: str) -> None:
        """Count one request of `identifiers` against `limit` in `scope`."""
        item = parse(limit)
        keys = (self.prefix, scope, *(str(i).lower() for i in identifiers))
        if self.strategy.hit(item, *keys):
            return
        stats = self.strategy.get_window_stats(item, *keys)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise RateLimited("demasiadas solicitudes; reintentar más tarde", retry_after=retry_after)

    def close(self) -> None:
        """Drop the connections of a Redis storage (memory storage has nothing to release)."""
        client = getattr(self.storage, "storage", None)
        pool = getattr(client, "connection_pool", None)
        if pool is not None:
            pool.disconnect()


def limiter_for(rt: Runtime) -> RateLimiter:
    """The limiter of this runtime for its settings (a forked child builds a new runtime)."""
    key = (rt.settings.ratelimit_storage_uri, key_prefix(rt.settings))
    with rt.lock:
        limiter = rt.limiters.get(key)
        if limiter is None:
            limiter = rt.limiters[key] = RateLimiter(key[0], key[1])
        return limiter
