"""Admission control, single flight and the result cache around POST /api/v1/dashboard/run.

    request ─▶ resolved once (engine/resolve.py): configuration, validated values, selection
            ─▶ key: tenant (+ its database), role, validated filter values, layout and widget
               rows, metadata version, data watermark
            ─▶ in the result cache?                 → that answer      (meta.served = "cache")
            ─▶ the same key already running?        → wait for it      (meta.served = "shared")
            ─▶ one of `run_concurrency` slots free? → compute          (meta.served = "computed")
            ─▶ else wait in a queue of `run_queue`; when that is full → 503 + Retry-After

Every route that runs a dashboard (dashboard/run, a widget's CSV export) goes through
`admitted_run`; a refusal is an `Overloaded` error, answered by the engine's CametError handler.

Data watermark: per line table MAX(ts) (an index lookup), plus COUNT/MAX(id)/SUM(reason_id) of
stop_labels (a stop reason given), plus COUNT/MAX(id) of import_batches (history imports add
rows older than MAX(ts)), plus the derived-data marks (the earliest dirty marks of the gap
analysis and the rollups, which every write of late rows moves, and the count of stop rewrites,
which a gap-analysis run that corrects stops moves: core/derived_state.py), plus the metadata
version read from the database; the external API manifest (path, size, mtime) is in the key
too. A late row inside a range already marked dirty is not seen by the watermark; the cache
TTL (30 s by default) bounds that.

The gate's state is per event loop (one per process under uvicorn or a2wsgi), so limits are
per process, as with every in-memory limit here.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import time
import weakref
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from core import schema_tenant as t
from core.clock import SYSTEM_CLOCK, Clock
from core.db_errors import unavailable_cause
from core.derived_state import derived_version_query
from core.errors import Overloaded
from core.metadata_cache import read_version
from core.runtime import Runtime
from core.settings import Settings
from engine.orchestrator import RunResult, run_dashboard
from engine.resolve import Caller, ResolvedRun, resolve_run
from engine.result_cache import ResultCache
from engine.threads import in_thread

T = TypeVar("T")
OVERLOADED_MESSAGE = ("El servidor está procesando muchos tableros a la vez. "
                      "Vuelva a intentarlo en unos segundos.")


@dataclass
class _LoopState:
    running: int = 0
    queue: deque[asyncio.Future[None]] = field(default_factory=deque)
    flights: dict[str, asyncio.Future[Any]] = field(default_factory=dict)


class RunGate:
    """At most `max_running` computations at once, `max_queued` waiting, identical keys shared."""

    def __init__(self, max_running: int, max_queued: int) -> None:
        self.max_running = max_running
        self.max_queued = max_queued
        self.stats = {"computed": 0, "shared": 0, "rejected": 0}
        self.avg_run_s = 1.0
        self.before_compute: Callable[[], Awaitable[None]] | None = None  # test hook
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState] = (
            weakref.WeakKeyDictionary())

    def _state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        state = self._loops.get(loop)
        if state is None:
            state = self._loops[loop] = _LoopState()
        return state

    def load(self) -> tuple[int, int, int]:
        """(running, queued, in-flight keys) on the current loop."""
        st = self._state()
        return st.running, sum(1 for w in st.queue if not w.done()), len(st.flights)

    async def run(self, key: str, compute: Callable[[], Awaitable[T]]) -> tuple[T, bool]:
        """(result, shared): compute once per key in flight, within the concurrency limit."""
        st = self._state()
        flight = st.flights.get(key)
        if flight is not None:
            self.stats["shared"] += 1
            return await asyncio.shield(flight), True
        if st.running >= self.max_running and len(st.queue) >= self.max_queued:
            self.stats["rejected"] += 1
            raise Overloaded(OVERLOADED_MESSAGE, retry_after_s=self._retry_after(st),
                             details={"running": st.running, "queued": len(st.queue)})
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        future.add_done_callback(_retrieve)
        st.flights[key] = future
        try:
            await self._acquire(st)
            try:
                if self.before_compute is not None:
                    await self.before_compute()
                started = time.monotonic()
                result = await compute()
                self.avg_run_s = 0.8 * self.avg_run_s + 0.2 * (time.monotonic() - started)
            finally:
                self._release(st)
            self.stats["computed"] += 1
            future.set_result(result)
            return result, False
        except BaseException as exc:
            if not future.done():
                future.set_exception(exc)
            raise
        finally:
            st.flights.pop(key, None)

    async def _acquire(self, st: _LoopState) -> None:
        if st.running < self.max_running and not st.queue:
            st.running += 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        st.queue.append(waiter)
        try:
            await waiter  # _release hands its slot over: running is not decremented
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release(st)  # granted and cancelled at once: pass the slot on
            else:
                st.queue.remove(waiter)
            raise

    def _release(self, st: _LoopState) -> None:
        while st.queue:
            waiter = st.queue.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        st.running -= 1

    def _retry_after(self, st: _LoopState) -> int:
        waiting_work = (st.running + len(st.queue)) / max(self.max_running, 1)
        return int(min(60, max(1, math.ceil(self.avg_run_s * waiting_work))))


def _retrieve(future: asyncio.Future[Any]) -> None:
    """Mark a flight's exception as seen (the caller re-raises it; sharers may be gone)."""
    if not future.cancelled():
        future.exception()


def data_watermark(rt: Runtime, slug: str) -> list[Any] | None:
    """Cheap marks that move when detections or metadata change; None when unreadable."""
    line_ids = sorted(rt.meta.get(slug).lines)
    marks = [select(func.max(t.detections_table(i).c.ts)).scalar_subquery() for i in line_ids]
    marks += [select(func.count()).select_from(t.import_batches).scalar_subquery(),
              select(func.max(t.import_batches.c.id)).scalar_subquery()]
    stops, rolls = t.stops_state.c, t.rollups_state.c  # late rows mark them; jobs clear them
    marks += [select(func.min(stops.dirty_from)).scalar_subquery(),
              select(func.min(rolls.dirty_from)).scalar_subquery(),
              select(func.max(rolls.dirty_until)).scalar_subquery(),
              derived_version_query()]
    labels = t.stop_labels.c  # a stop reason given or changed moves the Pareto by reason
    marks += [select(func.count()).select_from(t.stop_labels).scalar_subquery(),
              select(func.max(labels.id)).scalar_subquery(),
              select(func.sum(labels.reason_id)).scalar_subquery()]
    try:
        with rt.db.tenant(slug) as conn:
            row = conn.execute(select(*marks)).one()
            version = read_version(conn)
    except SQLAlchemyError as exc:
        if unavailable_cause(exc) is not None:
            raise  # the database does not answer: no use going on to the run
        return None  # e.g. a line without its table yet: run uncached
    return [version, *(str(v) for v in row)]


def _file_mark(path: Path) -> list[Any]:
    """Path, size and modification time: an edited file gives another key."""
    try:
        st = path.stat()
    except OSError:
        return [str(path), None]
    return [str(path), st.st_size, st.st_mtime_ns]


def run_key(rt: Runtime, run: ResolvedRun) -> tuple[str, str, bool]:
    """(key, slot, cacheable) of one resolved run: the slot is the key without the data
    watermark (the result cache keeps one answer per slot)."""
    slug, config = run.tenant, run.config
    watermark = data_watermark(rt, slug)
    parts = {
        "tenant": slug,
        "db": rt.db.tenant_url(slug),
        "role": run.principal.role,
        "filters": run.applied_json(),
        "filter_rows": [(f.param, type(f).__name__, f.label, f.config.model_dump(mode="json"))
                        for f in config.filter_set.filters],
        "layout": config.layout_id,
        "widgets": [(p.row, p.w, p.h) for p in config.placements],
        "errors": list(config.errors),
        "manifest": _file_mark(rt.settings.external_apis_file),  # external API config
    }
    slot = _digest(parts)
    return _digest({"slot": slot, "watermark": watermark}), slot, watermark is not None


def _digest(parts: dict[str, Any]) -> str:
    raw = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()


class DashboardRuns:
    """The gate and the result cache of one engine app (kept on app.state)."""

    def __init__(self, settings: Settings, clock: Clock = SYSTEM_CLOCK) -> None:
        self.gate = RunGate(settings.run_concurrency, settings.run_queue)
        self.cache = ResultCache(settings.result_cache_ttl_s, settings.result_cache_url, clock)
        self.gated = settings.run_concurrency > 0

    async def run(self, rt: Runtime, run: ResolvedRun,
                  compute: Callable[[], Awaitable[RunResult]]) -> RunResult:
        """The answer for this run from the cache, a shared flight or a new computation."""
        if not self.gated and not self.cache.enabled:
            result = await compute()
            result.meta["served"] = "computed"
            return result
        started = time.perf_counter()
        key, slot, cacheable = await in_thread(run_key, rt, run)
        if cacheable:
            hit = await in_thread(self.cache.get, key, slot)
            if hit is not None:
                meta = {**hit["meta"], "served": "cache"}
                took = round((time.perf_counter() - started) * 1000.0, 2)
                return RunResult(hit["widgets"], meta, {"cache": took, "total": took})
        if self.gated:
            result, shared = await self.gate.run(key, compute)
        else:
            result, shared = await compute(), False
        if cacheable and not shared and not any("error" in w or "stale" in w for w in result.widgets):
            # An answer with a failed or stale widget (an external API down) is not kept.
            answer = {"widgets": result.widgets, "meta": result.meta}
            await in_thread(self.cache.put, key, answer, slot)
        meta = {**result.meta, "served": "shared" if shared else "computed"}
        return RunResult(result.widgets, meta, result.timings_ms, result.spans_ms)

    def close(self) -> None:
        self.cache.close()


def dashboard_runs(app: Any, rt: Runtime) -> DashboardRuns:
    """The app's DashboardRuns, built on first use (a2wsgi never runs the lifespan)."""
    runs = getattr(app.state, "dashboard_runs", None)
    if runs is None:
        runs = app.state.dashboard_runs = DashboardRuns(rt.settings, rt.clock)
    return runs


async def admitted_run(app: Any, rt: Runtime, principal: Caller, raw_filters: dict[str, Any],
                       layout_id: int | None) -> RunResult:
    """Resolve this request once, then run it under the app's admission (cache, shared flight,
    gate). Raises ValidationFailed/NotFound before any data is read, and Overloaded when the
    gate's queue is full (the engine answers it with 503 and Retry-After)."""
    run = await in_thread(resolve_run, rt, principal, raw_filters, layout_id)
    return await dashboard_runs(app, rt).run(rt, run, lambda: run_dashboard(rt, run, local_app=app))
