"""Rate limits shared by both web layers, on the `limits` library and one storage.

Flask-Limiter (Flask pages) and `RateLimiter` (engine routes) read the same storage URI from
settings: memory by default (per process), Redis to hold across processes and hosts. Keys are
prefixed per installation, so two installations sharing a Redis never count together. The
engine's limiters belong to the Runtime and close with it.

A Redis that is down or frozen never turns a request into an error: each call gives up after
CAMET_REDIS_TIMEOUT_S, the limits are then counted in this process's memory (one warning in the
log), and Redis is tried again CAMET_REDIS_RETRY_S later. Flask-Limiter does the same through
its in-memory fallback (it re-tries Redis after 1, 2, 4 ... 32 s).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from typing import Any

from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from core.errors import RateLimited
from core.outage_log import OutageLog
from core.redis_link import REDIS_ERRORS, client_options, redis_target
from core.runtime import Runtime
from core.settings import Settings

log = logging.getLogger(__name__)
REDIS_SCHEMES = ("redis", "rediss", "redis+unix")

LOGIN_PER_IP = "30 per minute"
LOGIN_PER_USER = "10 per minute"
API_LOGIN_PER_IP = "30 per minute"
API_LOGIN_PER_USER = "10 per minute"
DASHBOARD_RUN_PER_USER = "30 per minute"
ENGINE_DASHBOARD_RUN_PER_USER = "60 per minute"


def key_prefix(settings: Settings) -> str:
    """A per-installation namespace derived from the central database URL."""
    digest = hashlib.sha256(settings.resolved_central_db_url().encode()).hexdigest()[:12]
    return f"camet-{digest}"


def storage_options(storage_uri: str, timeout_s: float) -> dict[str, Any]:
    """Options of a `limits` storage: Redis calls that give up after `timeout_s`."""
    if storage_uri.split("://", 1)[0] in REDIS_SCHEMES:
        return client_options(timeout_s)
    return {}


class RateLimiter:
    """Moving-window limits on one storage; `hit` raises RateLimited when a limit is spent.

    While the storage fails, limits count in process memory and the storage is tried again
    every `retry_s` seconds."""

    def __init__(self, storage_uri: str, prefix: str, *, timeout_s: float = 1.0,
                 retry_s: float = 5.0) -> None:
        self.storage = storage_from_string(storage_uri, wrap_exceptions=True,
                                           **storage_options(storage_uri, timeout_s))
        self.strategy = MovingWindowRateLimiter(self.storage)
        self.prefix = prefix
        self.retry_s = retry_s
        self._fallback: MovingWindowRateLimiter | None = None
        self._retry_at = 0.0  # monotonic; before it, the failed storage is not tried
        target = redis_target(storage_uri) if storage_uri.split("://", 1)[0] in REDIS_SCHEMES else "storage"
        self.outage = OutageLog(log, f"rate limits: {target}")

    def _memory(self) -> MovingWindowRateLimiter:
        if self._fallback is None:
            self._fallback = MovingWindowRateLimiter(MemoryStorage())
        return self._fallback

    def _count(self, strategy: MovingWindowRateLimiter, item: RateLimitItem, keys: tuple[str, ...]) -> int:
        """0 when the hit fits, else the seconds until the window frees a slot."""
        if strategy.hit(item, *keys):
            return 0
        stats = strategy.get_window_stats(item, *keys)
        return max(1, math.ceil(stats.reset_time - time.time()))

    def hit(self, limit: str, scope: str, *identifiers: str) -> None:
        """Count one request of `identifiers` against `limit` in `scope`."""
        item = parse(limit)
        keys = (self.prefix, scope, *(str(i).lower() for i in identifiers))
        if time.monotonic() < self._retry_at:
            retry_after = self._count(self._memory(), item, keys)
        else:
            try:
                retry_after = self._count(self.strategy, item, keys)
            except (StorageError, *REDIS_ERRORS) as exc:
                cause = exc.storage_error if isinstance(exc, StorageError) else exc
                self._retry_at = time.monotonic() + self.retry_s
                self.outage.failed(f"storage unreachable ({type(cause).__name__})",
                                   "counting in this process's memory until it answers")
                retry_after = self._count(self._memory(), item, keys)
            else:
                self.outage.ok()
        if retry_after:
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
            limiter = rt.limiters[key] = RateLimiter(key[0], key[1], timeout_s=rt.settings.redis_timeout_s,
                                                     retry_s=rt.settings.redis_retry_s)
        return limiter
