"""The external answers cache: last good payload per (API, tenant, parameters sent).

Entries remember when they were fetched (the injected clock), so the service decides what is
fresh (younger than the API's TTL) and what may still be served stale when the provider fails
(younger than `stale_max_s`). Two stores, one interface:

    MemoryCache   per process, LRU-bounded to `max_entries`
    RedisCache    shared by every process of the installation (CAMET_BROKER_CACHE_URL);
                  entries expire after `stale_max_s`; a Redis failure is a cache miss
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CacheEntry:
    """One good answer and the UTC instant it was received."""

    payload: Any
    fetched_at: datetime

    def dumps(self) -> str:
        return json.dumps({"payload": self.payload, "fetched_at": self.fetched_at.isoformat()})

    @classmethod
    def loads(cls, text: str | bytes) -> CacheEntry:
        raw = json.loads(text)
        return cls(raw["payload"], datetime.fromisoformat(raw["fetched_at"]))


def cache_key(api_id: str, tenant: str, params: tuple[tuple[str, str], ...]) -> str:
    """A stable key of exactly what identifies an answer: API, tenant, parameters sent."""
    material = json.dumps([api_id, tenant, list(params)], separators=(",", ":"))
    return hashlib.sha256(material.encode()).hexdigest()


class AnswerCache(Protocol):
    def get(self, key: str) -> CacheEntry | None: ...

    def put(self, key: str, entry: CacheEntry) -> None: ...

    def clear(self) -> None: ...

    def close(self) -> None: ...


class MemoryCache:
    """A bounded LRU dictionary, safe across the threads of one process."""

    def __init__(self, max_entries: int = 1000) -> None:
        self.max_entries = max_entries
        self._data: OrderedDict[str, CacheEntry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> CacheEntry | None:
        with self._lock:
            entry = self._data.get(key)
            if entry is not None:
                self._data.move_to_end(key)
            return entry

    def put(self, key: str, entry: CacheEntry) -> None:
        with self._lock:
            self._data[key] = entry
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def close(self) -> None:
        self.clear()


class RedisCache:
    """Entries in Redis under a per-installation prefix, expiring after `keep_s` seconds."""

    def __init__(self, url: str, prefix: str, keep_s: int) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.prefix = prefix
        self.keep_s = max(1, int(keep_s))

    def get(self, key: str) -> CacheEntry | None:
        try:
            raw = self._redis.get(self.prefix + key)
            return CacheEntry.loads(raw) if raw is not None else None
        except Exception as exc:  # noqa: BLE001 - a cache outage must not fail a dashboard
            log.warning("broker cache read failed (%s); treating as a miss", exc.__class__.__name__)
            return None

    def put(self, key: str, entry: CacheEntry) -> None:
        try:
            self._redis.set(self.prefix + key, entry.dumps(), ex=self.keep_s)
        except Exception as exc:  # noqa: BLE001
            log.warning("broker cache write failed (%s)", exc.__class__.__name__)

    def clear(self) -> None:
        for key in self._redis.scan_iter(self.prefix + "*"):
            self._redis.delete(key)

    def close(self) -> None:
        self._redis.close()
