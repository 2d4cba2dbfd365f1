"""Memory policy: give the heap back after each dashboard run and measure the process RSS.

CPython and glibc keep freed arenas mapped, so a worker that built a 500 MB frame once would
stay at 500 MB; `release_memory()` runs the collector and asks glibc to return free pages.
"""

from __future__ import annotations

import asyncio
import ctypes
import functools
import gc
import os
import platform
import resource
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import ParamSpec, TypeVar

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_gc_lock = threading.Lock()
_gc_pauses = 0
_gc_resume = False


@lru_cache(maxsize=1)
def _libc() -> ctypes.CDLL | None:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def release_memory() -> bool:
    """gc.collect() then malloc_trim(0) on glibc; True when the heap was trimmed."""
    gc.collect()
    libc = _libc()
    if libc is None:
        return False
    return bool(libc.malloc_trim(0))


@contextmanager
def paused_gc() -> Iterator[None]:
    """Suspend the cyclic garbage collector while building millions of row tuples.

    Every tuple a driver returns is GC-tracked, so collections keep rescanning the live batch;
    pausing halves the time of a streamed read. Nested and concurrent pauses are counted: the
    collector resumes when the last one ends (if it was enabled before the first).
    """
    global _gc_pauses, _gc_resume
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_resume = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_resume:
                gc.enable()


RELEASE_GROWTH_BYTES = 32 * 1024 * 1024
"""RSS growth of one run above which it gives the heap back (see RunMemory)."""
IDLE_RELEASE_BYTES = 8 * 1024 * 1024
"""RSS growth since the last release above which a process that goes idle gives the heap back."""


class RunMemory:
    """When dashboard runs give the heap back: after a run that grew the RSS by more than
    `threshold`, and when the process goes idle (no run in flight) more than `idle_threshold`
    above the RSS left by the last release (the first time it goes idle, always). Going idle is
    when a collection costs nobody a wait, so its threshold is lower: with 32 MB a page process
    stayed +24 % over warm after a 20-user load test.

    Concurrent runs (and logins: Argon2id takes 64 MiB per hash) each grow the heap a little,
    so no single run crosses the threshold, yet a burst leaves hundreds of MB mapped; the idle
    check returns that once the burst is over. `finished` only decides: the caller runs
    `release` after answering, so no request waits for the ~0.1 s collection (paid inline after
    every run, it doubled a 30-day dashboard answered from rollups). `rss` and `release` are
    injectable for tests.
    """

    def __init__(self, threshold: int = RELEASE_GROWTH_BYTES, rss: Callable[[], int] | None = None,
                 release: Callable[[], object] | None = None,
                 idle_threshold: int = IDLE_RELEASE_BYTES) -> None:
        self.threshold = threshold
        self.idle_threshold = idle_threshold
        self._rss = rss or rss_bytes
        self._release = release or release_memory
        self._lock = threading.Lock()
        self._releasing = threading.Lock()
        self._active = 0
        self._released_at: int | None = None

    def started(self) -> int:
        """Count a run in; returns the RSS it starts at (pass it to finished())."""
        with self._lock:
            self._active += 1
        return self._rss()

    def finished(self, before: int) -> bool:
        """Count a run out; True when the heap should be given back (call release())."""
        with self._lock:
            self._active -= 1
            idle = self._active == 0
            last = self._released_at
        now = self._rss()
        if now - before > self.threshold:
            return True
        return idle and (last is None or now - last > self.idle_threshold)

    def release(self) -> None:
        """Give the heap back and remember the RSS it left (skipped while another release runs:
        two units of work may end idle at once)."""
        if not self._releasing.acquire(blocking=False):
            return
        try:
            self._release()
            with self._lock:
                self._released_at = self._rss()
        finally:
            self._releasing.release()


M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8


def tune_allocator(mmap_threshold_kb: int, arena_max: int) -> bool:
    """Make glibc hand large blocks back when they are freed; True when applied.

    glibc serves a block from its heap once a freed mapping of that size has raised its sliding
    mmap threshold (up to 32 MB), so the megabyte buffers of frames and JSON answers end up in
    arenas that concurrent runs fragment: a passenger process kept +22 % over warm after three
    20-user bursts. A fixed threshold gives each large block its own
    mapping (returned at free) and fewer arenas (one per thread by default, up to 8 per core)
    keep the small ones together: +11 % after the same bursts. Call once, before the server
    starts its threads. 0 leaves that parameter at glibc's default.
    """
    libc = _libc()
    if libc is None:
        return False
    applied = True
    if mmap_threshold_kb:
        applied &= bool(libc.mallopt(M_MMAP_THRESHOLD, mmap_threshold_kb * 1024))
    if arena_max:
        applied &= bool(libc.mallopt(M_ARENA_MAX, arena_max))
    return applied


def trim_heap() -> bool:
    """malloc_trim(0) alone (no gc pass): cheap enough to call between pipeline stages."""
    libc = _libc()
    return bool(libc.malloc_trim(0)) if libc is not None else False


def rss_bytes() -> int:
    """The process's resident set size now."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * _PAGE
    except OSError:
        return peak_rss_bytes()


def peak_rss_bytes() -> int:
    """The highest RSS since start (or since `reset_peak_rss()` where Linux allows it)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def reset_peak_rss() -> bool:
    """Restart peak tracking at the current RSS (Linux ≥ 4.0); False when unsupported."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


@dataclass
class RssReport:
    """Process RSS in bytes around one unit of work (peak is process-wide, so approximate when
    several requests run in one process at once)."""

    before: int = 0
    peak: int = 0
    after: int = 0

    def as_dict(self) -> dict[str, float]:
        mib = 1024 * 1024
        return {"rss_before_mb": round(self.before / mib, 1), "rss_peak_mb": round(self.peak / mib, 1),
                "rss_after_mb": round(self.after / mib, 1)}


@contextmanager
def memory_scope() -> Iterator[RssReport]:
    """Measure RSS before / at peak, then release memory and measure after (the run's policy).

    Drop your references to the frames inside the block; whatever is still referenced when it
    ends cannot be given back.
    """
    report = RssReport(before=rss_bytes())
    reset_peak_rss()
    try:
        yield report
    finally:
        report.peak = max(peak_rss_bytes(), report.before)
        release_memory()
        report.after = rss_bytes()


RUN_MEMORY = RunMemory()
"""The process's policy: dashboard runs (engine/orchestrator.py) and page requests
(app_flask/memory_policy.py) count in and out of it, so a passenger process, which serves both,
releases once its last page request has answered."""


P = ParamSpec("P")
R = TypeVar("R")


def released_after(run: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Decorate an async run so RUN_MEMORY counts it and, when its policy says so, gives the heap
    back in a worker thread after the run has answered."""

    @functools.wraps(run)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        before = RUN_MEMORY.started()
        try:
            return await run(*args, **kwargs)
        finally:
            if RUN_MEMORY.finished(before):
                asyncio.get_running_loop().run_in_executor(None, RUN_MEMORY.release)

    return wrapper
