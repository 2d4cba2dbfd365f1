"""A short-lived cache of whole dashboard answers, per process or shared through Redis.

The key (built by engine.run_admission) names everything an answer depends on, including
a data watermark, so an entry is never served after the data or the configuration moved; the
TTL only bounds what the watermark cannot see (e.g. a late row older than every line's newest
one written outside an import batch). Values are JSON documents; a Redis outage is logged and
behaves as a miss, never as a failed run.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from typing import Any

from core.clock import SYSTEM_CLOCK, Clock

log = logging.getLogger(__name__)

MAX_LOCAL_ENTRIES = 256
MAX_LOCAL_BYTES = 32 * 1024 * 1024
"""What the per-process entries may hold in all: a few hundred dashboard answers."""
REDIS_PREFIX = "camet:run:"


def _plain(value: Any) -> Any:
    """numpy scalars and arrays as plain JSON values."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class ResultCache:
    """get/put of JSON-able answers by key for `ttl_s` seconds; ttl_s == 0 disables it.

    A `slot` names the run without its data watermark: in this process's memory a slot holds
    one answer, so when live data moves the watermark the new answer replaces the old one, which
    no run can ask for again. Redis expires its keys on its own.
    """

    def __init__(self, ttl_s: float, url: str = "", clock: Clock = SYSTEM_CLOCK) -> None:
        self.ttl_s = ttl_s
        self.clock = clock  # local entries expire on the injected clock; Redis keys on its own
        self.url = url
        self._local: OrderedDict[str, tuple[float, str, str]] = OrderedDict()  # slot → (expires, key, raw)
        self._local_bytes = 0
        self._lock = threading.Lock()
        self._redis: Any = None
        if url and ttl_s > 0:
            import redis

            self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)

    def _now(self) -> float:
        return self.clock.now_utc().timestamp()

    @property
    def enabled(self) -> bool:
        return self.ttl_s > 0

    def get(self, key: str, slot: str | None = None) -> dict[str, Any] | None:
        """The cached answer (a fresh copy), or None."""
        if not self.enabled:
            return None
        raw = self._get_redis(key) if self._redis is not None else self._get_local(key, slot or key)
        return json.loads(raw) if raw is not None else None

    def put(self, key: str, value: dict[str, Any], slot: str | None = None) -> None:
        """Keep a JSON-able answer for ttl_s seconds (in place of the slot's older one)."""
        if not self.enabled:
            return
        try:
            raw = json.dumps(value, separators=(",", ":"), default=_plain)
        except (TypeError, ValueError) as exc:
            log.warning("result cache: answer not stored (%s)", exc)
            return
        if self._redis is not None:
            try:
                self._redis.set(REDIS_PREFIX + key, raw, px=max(1, int(self.ttl_s * 1000)))
            except Exception as exc:  # the cache is an optimisation: never fail the run
                log.warning("result cache: Redis write failed (%s)", type(exc).__name__)
            return
        slot = slot or key
        with self._lock:
            self._drop_local(slot)
            self._local[slot] = (self._now() + self.ttl_s, key, raw)
            self._local_bytes += len(raw)
            self._drop_expired()
            while len(self._local) > MAX_LOCAL_ENTRIES or self._local_bytes > MAX_LOCAL_BYTES:
                self._drop_local(next(iter(self._local)))

    def _get_local(self, key: str, slot: str) -> str | None:
        with self._lock:
            self._drop_expired()
            hit = self._local.get(slot)
            return hit[2] if hit is not None and hit[1] == key else None

    def _drop_expired(self) -> None:
        """Drop the entries whose time is up. Every entry lives ttl_s from its put and puts go
        to the end, so they expire from the front; no answer waits in memory for the size bound.
        Call with the lock held."""
        now = self._now()
        while self._local:
            slot, (expires, _key, _raw) = next(iter(self._local.items()))
            if expires > now:
                return
            self._drop_local(slot)

    def _drop_local(self, slot: str) -> None:
        hit = self._local.pop(slot, None)
        if hit is not None:
            self._local_bytes -= len(hit[2])

    def _get_redis(self, key: str) -> str | None:
        try:
            raw = self._redis.get(REDIS_PREFIX + key)
        except Exception as exc:
            log.warning("result cache: Redis read failed (%s)", type(exc).__name__)
            return None
        return raw.decode() if raw is not None else None

    def close(self) -> None:
        """Drop the local entries and the Redis connection pool."""
        with self._lock:
            self._local.clear()
            self._local_bytes = 0
        if self._redis is not None:
            self._redis.close()
