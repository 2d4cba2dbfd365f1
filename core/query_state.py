"""State the query stage keeps between runs, owned by the Runtime and released by one close().

    QueryState
    ├── partitions  PartitionCache  partition names per (database, table), kept briefly
    ├── failures    ReaderFailures  readers that failed on a database, skipped for a cooldown
    └── engines     EngineCache     extra NullPool engines (e.g. the mysqlclient driver's)

Two runtimes in one process never share any of it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.engine import Connection, Engine

from core import partitions as parts

PARTITION_CACHE_TTL_S = 30.0
FAILURE_COOLDOWN_S = 600.0


def _own_partitions(existing: Sequence[str], window: tuple[datetime, datetime]) -> bool:
    """True when every month of the window has its own partition (safe to route from cache)."""
    first_day: date = window[0].date()
    last_day: date = (window[1] - timedelta(microseconds=1)).date()
    have = set(existing)
    return all(parts.partition_name(m) in have for m in parts.months_between(first_day, last_day))


class PartitionCache:
    """Partition names per (database, table), kept briefly; re-read when routing depends on it."""

    def __init__(self, ttl_s: float = PARTITION_CACHE_TTL_S) -> None:
        self.ttl_s = ttl_s
        self._entries: dict[tuple[str, str], tuple[float, tuple[str, ...]]] = {}
        self._lock = threading.Lock()

    def get(
        self, conn: Connection, table_name: str, window: tuple[datetime, datetime] | None = None
    ) -> tuple[str, ...]:
        """The table's partitions; a cached list is used only when it cannot misroute."""
        key = (str(conn.engine.url), table_name)
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(key)
        if hit is not None and now - hit[0] < self.ttl_s:
            if window is None or _own_partitions(hit[1], window):
                return hit[1]
        names = tuple(parts.existing_partitions(conn, table_name))
        with self._lock:
            self._entries[key] = (time.monotonic(), names)
        return names

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class ReaderFailures:
    """Which reader failed on which database and when, so it is skipped for a cooldown."""

    def __init__(self, cooldown_s: float = FAILURE_COOLDOWN_S) -> None:
        self.cooldown_s = cooldown_s
        self._failed: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def usable(self, key: str, names: Iterable[str]) -> list[str]:
        """The names not in their cooldown on database `key`, in the given order."""
        now = time.monotonic()
        with self._lock:
            return [n for n in names if now - self._failed.get((key, n), -1e18) > self.cooldown_s]

    def record(self, key: str, name: str) -> None:
        with self._lock:
            self._failed[(key, name)] = time.monotonic()

    def clear(self) -> None:
        with self._lock:
            self._failed.clear()


class EngineCache:
    """Engines built on demand by key and disposed together."""

    def __init__(self) -> None:
        self._engines: dict[str, Engine] = {}
        self._lock = threading.Lock()

    def get(self, key: str, build: Callable[[], Engine]) -> Engine:
        with self._lock:
            engine = self._engines.get(key)
            if engine is None:
                engine = self._engines[key] = build()
            return engine

    def close(self) -> None:
        with self._lock:
            engines, self._engines = list(self._engines.values()), {}
        for engine in engines:
            engine.dispose()


@dataclass
class QueryState:
    """The query stage's caches of one runtime."""

    partitions: PartitionCache = field(default_factory=PartitionCache)
    failures: ReaderFailures = field(default_factory=ReaderFailures)
    engines: EngineCache = field(default_factory=EngineCache)

    def close(self) -> None:
        """Dispose the extra engines and forget everything cached."""
        self.engines.close()
        self.partitions.clear()
        self.failures.clear()
