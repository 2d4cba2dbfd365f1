"""Process-wide services built lazily on first use, once per process.

Under a2wsgi the FastAPI lifespan never runs and Passenger forks workers, so nothing heavy is
built at import time: `get_runtime()` builds settings, the DatabaseManager and the metadata
cache the first time a request needs them, and again in a forked child (new pid).
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass

from core.clock import SYSTEM_CLOCK, Clock, OffsetClock, parse_instant
from core.db import DatabaseManager
from core.file_modes import secure_var_dir
from core.metadata_cache import MetadataCache
from core.settings import Settings, get_settings


@dataclass
class Runtime:
    settings: Settings
    db: DatabaseManager
    meta: MetadataCache
    pid: int
    clock: Clock = SYSTEM_CLOCK


_lock = threading.Lock()
_current: Runtime | None = None


def clock_for(settings: Settings) -> Clock:
    """The real clock, or one that starts at CAMET_CLOCK_START and ticks from there."""
    if settings.clock_start:
        return OffsetClock(parse_instant(settings.clock_start, settings.default_timezone))
    return SYSTEM_CLOCK


def build_runtime(settings: Settings, clock: Clock | None = None) -> Runtime:
    """Fresh services for the given settings (tests pass their own settings and clock)."""
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per engine call is noise
    secure_var_dir(settings.var_dir)
    db = DatabaseManager(settings)
    return Runtime(settings=settings, db=db, meta=MetadataCache(db), pid=os.getpid(),
                   clock=clock or clock_for(settings))


def get_runtime() -> Runtime:
    """The services of this process, built on first use."""
    global _current
    rt = _current
    if rt is not None and rt.pid == os.getpid():
        return rt
    with _lock:
        if _current is None or _current.pid != os.getpid():
            _current = build_runtime(get_settings())
        return _current


def set_runtime(runtime: Runtime | None) -> None:
    """Install (or clear) the process runtime; used by tests and app factories."""
    global _current
    with _lock:
        _current = runtime
