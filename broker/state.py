"""BrokerState: the broker's long-lived per-process objects, held by the Runtime.

Manifest loader (mtime cache), shared httpx clients per event loop, the answers cache (memory
or Redis, built from the settings on first use) and the circuit breakers. `close()` releases
them; nothing here is a module global.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field

from broker.breaker import BreakerBoard
from broker.cache import AnswerCache, MemoryCache, RedisCache
from broker.clients import ClientPool
from broker.manifest import ManifestLoader
from core.runtime import Runtime
from core.settings import Settings


@dataclass
class BrokerState:
    """Shared by every dashboard run of the process."""

    manifests: ManifestLoader = field(default_factory=ManifestLoader)
    clients: ClientPool = field(default_factory=ClientPool)
    breakers: BreakerBoard = field(default_factory=BreakerBoard)
    _cache: AnswerCache | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def cache(self, settings: Settings) -> AnswerCache:
        """The answers cache the settings ask for, built once."""
        if self._cache is None:
            with self._lock:
                if self._cache is None:
                    self._cache = build_cache(settings)
                    self.clients.per_host = settings.broker_max_per_host
        return self._cache

    def close(self) -> None:
        """Close the clients and the cache (the Runtime's close calls it)."""
        self.clients.close()
        if self._cache is not None:
            self._cache.close()
            self._cache = None


def build_cache(settings: Settings) -> AnswerCache:
    """Redis when CAMET_BROKER_CACHE_URL is set, else a per-process LRU."""
    if settings.broker_cache_url:
        central = settings.resolved_central_db_url()
        prefix = "camet-" + hashlib.sha256(central.encode()).hexdigest()[:12] + ":broker:"
        return RedisCache(settings.broker_cache_url, prefix, settings.broker_stale_max_s)
    return MemoryCache(settings.broker_cache_max_entries)


def broker_state(rt: Runtime) -> BrokerState:
    """This runtime's broker state (clients, cache, breakers), built on first use."""
    return rt.part("broker", BrokerState)
