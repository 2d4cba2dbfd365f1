"""The query planner: how one run's widget needs are fed, and why.

    needs ─▶ choose a path ─▶ raw:      read every detection (master frame), group in pandas
                           └▶ pushdown: GROUP BY in the database (query/pushdown.py)

Both paths hand every need the same grained frame (query/grain.py), so widgets never know which
one ran. Raw rows are read only when a widget declares `raw_rows` (it needs each detection);
otherwise the database groups them. The chosen path and its reason go to the run's `meta.plan`
and `Server-Timing`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd
from sqlalchemy.engine import make_url

from core.db import is_mysql
from core.runtime import Runtime
from query.builder import build_query, is_empty_window, resolve_line_ids, route_partitions, time_window
from query.columns import source_columns_for
from query.grain import WEIGHT_MEASURES, FrameNeed, empty_grain, master_columns_for, regrain, shape_frames
from query.master_frame import build_master_frame
from query.pushdown import bucket_minutes, build_aggregate, groups_frame
from query.readers.deadline import statement_deadline
from query.spec import SqlFragment

Path = Literal["raw", "pushdown"]
PATHS: tuple[Path, ...] = ("raw", "pushdown")


@dataclass(frozen=True)
class Plan:
    """The path chosen for a run's needs and the reason, as reported in `meta.plan`."""

    path: Path
    reason: str

    def as_meta(self, **extra: Any) -> dict[str, Any]:
        return {"path": self.path, "reason": self.reason, **extra}


@dataclass
class GrainedRead:
    """Each need's frame plus what it cost; `rows` counts the detections the frames stand for."""

    frames: dict[FrameNeed, pd.DataFrame]
    rows: int
    timings: dict[str, float]
    reader: str | None
    plan: dict[str, Any] = field(default_factory=dict)


def choose_plan(needs: Iterable[FrameNeed]) -> Plan:
    """Raw rows only when a widget needs each detection; otherwise the database groups them."""
    needs = list(needs)
    if any(n.raw for n in needs):
        return Plan("raw", "a widget reads raw rows (raw_rows = True)")
    return Plan("pushdown", "every widget reads a grain: GROUP BY in the database")


def read_grained(
    rt: Runtime,
    slug: str,
    fragments: Sequence[SqlFragment],
    needs: Iterable[FrameNeed],
    *,
    path: Path | None = None,
) -> GrainedRead:
    """Every need's frame for the rows the fragments select; `path` forces one (tests, bench)."""
    needs = list(dict.fromkeys(needs))
    plan = choose_plan(needs) if path is None else Plan(path, "forced")
    if plan.path == "pushdown" and any(n.raw for n in needs):
        raise ValueError("raw-row needs cannot be pushed down")
    read = _raw(rt, slug, fragments, needs) if plan.path == "raw" else _pushdown(rt, slug, fragments, needs)
    read.plan = plan.as_meta(**read.plan)
    return read


def _raw(rt: Runtime, slug: str, fragments: Sequence[SqlFragment], needs: list[FrameNeed]) -> GrainedRead:
    master = build_master_frame(rt, slug, fragments, master_columns_for(needs))
    t0 = time.perf_counter()
    frames = shape_frames(master.frame, needs)
    timings = {**master.timings, "grain": time.perf_counter() - t0}
    rows, reader = master.rows, master.reader
    del master
    return GrainedRead(frames, rows, timings, reader, {"grain_rows": _grain_rows(frames)})


def _pushdown(
    rt: Runtime, slug: str, fragments: Sequence[SqlFragment], needs: list[FrameNeed]
) -> GrainedRead:
    t0 = time.perf_counter()
    meta = rt.meta.get(slug)
    dims = frozenset().union(*(n.columns for n in needs)) if needs else frozenset()
    weights = any(n.measures & WEIGHT_MEASURES for n in needs)
    minutes = bucket_minutes(meta, dims)
    line_ids = resolve_line_ids(meta, fragments)
    window = time_window(fragments)
    extra: dict[str, Any] = {"bucket_minutes": minutes}
    if not line_ids or is_empty_window(window):
        frames = {n: empty_grain(n) for n in needs}
        return GrainedRead(frames, 0, _zero(), "sql", {**extra, "grain_rows": 0})
    mysql = is_mysql(make_url(rt.db.tenant_url(slug)))
    with rt.db.tenant(slug) as conn:
        routed = route_partitions(conn, rt.query_state.partitions, line_ids, window) if mysql else {}
        query = build_query(line_ids, source_columns_for(dims), list(fragments), partitions=routed)
        agg = build_aggregate(query, fragments, dims, weights, minutes)
        t1 = time.perf_counter()
        with statement_deadline(rt.settings.query_timeout_s, conn):
            rows = [tuple(r) for stmt in agg.statements for r in conn.execute(stmt)]
    t2 = time.perf_counter()
    finest = groups_frame(agg, rows, meta, dims)
    t3 = time.perf_counter()
    frames = {n: regrain(finest, n.columns, n.measures)[n.output_columns()] for n in needs}
    timings = {"query": t1 - t0, "fetch": t2 - t1, "dataframe": 0.0, "joins": t3 - t2,
               "grain": time.perf_counter() - t3}
    units = int(finest["units"].sum()) if len(finest) else 0
    return GrainedRead(frames, units, timings, "sql", {**extra, "grain_rows": len(finest)})


def _zero() -> dict[str, float]:
    return {"query": 0.0, "fetch": 0.0, "dataframe": 0.0, "joins": 0.0, "grain": 0.0}


def _grain_rows(frames: dict[FrameNeed, pd.DataFrame]) -> int:
    return max((len(f) for n, f in frames.items() if not n.raw), default=0)
