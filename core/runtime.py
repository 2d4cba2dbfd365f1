"""The services of one installation (settings, databases, metadata cache, clock, limiters).

Each app factory receives or builds its own Runtime and keeps it on the app object
(FastAPI `app.state.runtime`, Flask `app.extensions["camet_runtime"]`); nothing lives in a
module global, so two apps with two runtimes in one process never share state. Under
a2wsgi/Passenger nothing heavy happens at import time: `ProcessRuntime` builds the runtime on
the first request of a process, and again in a forked child (new pid).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from core.clock import SYSTEM_CLOCK, Clock, OffsetClock, parse_instant
from core.db import DatabaseManager
from core.file_modes import secure_var_dir
from core.memory import tune_allocator
from core.metadata_cache import MetadataCache
from core.query_state import QueryState
from core.settings import Settings, get_settings

log = logging.getLogger(__name__)


class Closeable(Protocol):
    def close(self) -> None: ...


Part = TypeVar("Part", bound=Closeable)


@dataclass
class Runtime:
    settings: Settings
    db: DatabaseManager
    meta: MetadataCache
    pid: int
    clock: Clock = SYSTEM_CLOCK
    # Rate limiters of identity/ratelimit.py, one per (storage URI, key prefix).
    limiters: dict[tuple[str, str], Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    scheduler: Closeable | None = None  # jobs/scheduler.py, started by the first request
    # Long-lived services of the layers above core (e.g. the broker's clients, cache and
    # breakers), built on first use by `part()` and released by close().
    parts: dict[str, Any] = field(default_factory=dict)
    query_state: QueryState = field(default_factory=QueryState)  # partitions, reader failures, engines

    def part(self, name: str, factory: Callable[[], Part]) -> Part:
        """The named long-lived part of this runtime, built once on first use."""
        with self.lock:
            if name not in self.parts:
                self.parts[name] = factory()
            return self.parts[name]

    def close(self) -> None:
        """Release what this runtime holds: the scheduler, parts, limiter storages, DB engines."""
        if self.scheduler is not None:
            self.scheduler.close()
            self.scheduler = None
        with self.lock:
            held = [*self.limiters.values(), *self.parts.values(), self.query_state]
            self.limiters.clear()
            self.parts.clear()
        for item in held:
            try:
                item.close()
            except Exception:  # noqa: BLE001 - closing one part must not keep the rest open
                log.exception("closing %s failed", type(item).__name__)
        self.meta.invalidate()
        self.db.dispose()


def clock_for(settings: Settings) -> Clock:
    """The real clock, or one that starts at CAMET_CLOCK_START and ticks from there."""
    if settings.clock_start:
        return OffsetClock(parse_instant(settings.clock_start, settings.default_timezone))
    return SYSTEM_CLOCK


def build_runtime(settings: Settings, clock: Clock | None = None) -> Runtime:
    """Fresh services for the given settings (tests pass their own settings and clock)."""
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per engine call is noise
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one line per 30 s tick, likewise
    secure_var_dir(settings.var_dir)
    db = DatabaseManager(settings)
    return Runtime(settings=settings, db=db, meta=MetadataCache(db), pid=os.getpid(),
                   clock=clock or clock_for(settings))


def default_runtime() -> Runtime:
    """A runtime from the environment's settings (servers, CLI commands), in a process whose
    allocator gives large blocks back (core.memory.tune_allocator)."""
    return build_runtime(tuned_process_settings())


def tuned_process_settings() -> Settings:
    """The environment's settings, after tuning this process's allocator by them."""
    settings = get_settings()
    tune_allocator(settings.malloc_mmap_threshold_kb, settings.malloc_arena_max)
    return settings


class ProcessRuntime:
    """Builds one runtime lazily per process: on first use, and again in a forked child."""

    def __init__(self, factory: Callable[[], Runtime] = default_runtime) -> None:
        self._factory = factory
        self._lock = threading.Lock()
        self._runtime: Runtime | None = None

    def get(self) -> Runtime:
        """This process's runtime, built on first use."""
        rt = self._runtime
        if rt is not None and rt.pid == os.getpid():
            return rt
        with self._lock:
            if self._runtime is None or self._runtime.pid != os.getpid():
                self._runtime = self._factory()
            return self._runtime
