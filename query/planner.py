"""The query planner: how one run's widget needs are fed, and why.

    needs ─▶ choose a path ─▶ raw:      read every detection (master frame), group in pandas
                           ├▶ rollup:   GROUP BY over the rollups table; the newest, not yet
                           │            rolled buckets (and dirty ones) grouped from raw rows
                           └▶ pushdown: GROUP BY over the detections in the database

All paths hand every need the same grained frame (query/grain.py), so widgets never know which
one ran. Raw rows are read only when a widget declares `raw_rows`; rollups answer when the
filters and the time dimensions align with their buckets (query/rollup_read.py); the push-down
answers everything else (e.g. a weight range). The chosen path and its reason go to the run's
`meta.plan` and `Server-Timing`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

import pandas as pd

from core.metadata_cache import TenantMeta
from core.runtime import Runtime
from query.builder import time_window
from query.grain import WEIGHT_MEASURES, FrameNeed, empty_grain, master_columns_for, regrain, shape_frames
from query.master_frame import build_master_frame
from query.pushdown import GroupSpec, bucket_minutes, read_groups
from query.rollup_read import read_rollup_groups, rollup_blocker
from query.spec import SqlFragment

Path = Literal["raw", "rollup", "pushdown"]
PATHS: tuple[Path, ...] = ("raw", "rollup", "pushdown")
SPLIT_AFTER = timedelta(days=2)
"""Windows longer than this are read once per time grain (see read_groups_of)."""


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


def group_spec(meta: TenantMeta, needs: Sequence[FrameNeed]) -> GroupSpec:
    """The grain every grained need can be folded from: the union of their dimensions."""
    dims = frozenset().union(*(n.columns for n in needs)) if needs else frozenset()
    return GroupSpec.of(meta, dims, any(n.measures & WEIGHT_MEASURES for n in needs))


def choose_plan(needs: Iterable[FrameNeed], blocker: str | None = None) -> Plan:
    """Raw rows only when a widget needs each detection; rollups unless `blocker` says why
    not; otherwise the database groups the detections."""
    needs = list(needs)
    if any(n.raw for n in needs):
        return Plan("raw", "a widget reads raw rows (raw_rows = True)")
    if blocker is None:
        return Plan("rollup", "filters and time dimensions align with the 5-minute rollups")
    return Plan("pushdown", f"GROUP BY over the detections: {blocker}")


def configured_path(setting: str, needs: Iterable[FrameNeed]) -> Path | None:
    """The path CAMET_PLANNER_PATH forces (None: the planner chooses). Raw-row needs can only be
    fed raw, so a forced grouped path yields to the planner when a widget reads raw rows."""
    if setting == "auto" or (setting != "raw" and any(n.raw for n in needs)):
        return None
    if setting not in PATHS:
        raise ValueError(f"unknown planner path {setting!r}")
    return setting  # type: ignore[return-value]


def read_groups_of(meta: TenantMeta, needs: list[FrameNeed], fragments: Sequence[SqlFragment]
                   ) -> list[list[FrameNeed]]:
    """The needs read together: one read for short windows; for longer ones (or no window), one
    read per time grain, so a month's hourly heatmap does not multiply the per-product groups
    of the tables by 24 × 30 (at 365 days the union grain was 245k groups against 28 + 1,460 +
    8,760 for the three reads)."""
    window = time_window(fragments)
    if len(needs) < 2 or (window is not None and window[1] - window[0] <= SPLIT_AFTER):
        return [needs]
    by_minutes: dict[int | None, list[FrameNeed]] = {}
    for need in needs:
        by_minutes.setdefault(bucket_minutes(meta, need.columns), []).append(need)
    return list(by_minutes.values())


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
    meta = rt.meta.get(slug)
    if path == "raw" or (path is None and any(n.raw for n in needs)):
        plan = Plan("raw", "forced") if path else choose_plan(needs)
        read = _raw(rt, slug, fragments, needs)
        read.plan = plan.as_meta(**read.plan)
        return read
    if any(n.raw for n in needs):
        raise ValueError("raw-row needs cannot be read from groups")
    reads = []
    for group in read_groups_of(meta, needs, fragments):
        spec = group_spec(meta, group)
        plan = Plan(path, "forced") if path else choose_plan(group, rollup_blocker(spec, fragments))
        part = _grouped(rt, slug, fragments, group, spec, plan.path)
        part.plan = plan.as_meta(**part.plan)
        reads.append(part)
    return reads[0] if len(reads) == 1 else _combined(reads)


def _combined(reads: list[GrainedRead]) -> GrainedRead:
    """One run's reads as one: every frame, the detections counted once, stages summed, and a
    plan naming each read (top-level path "mixed" when they took different paths)."""
    frames: dict[FrameNeed, pd.DataFrame] = {}
    timings: dict[str, float] = {}
    for read in reads:
        frames.update(read.frames)
        for key, value in read.timings.items():
            timings[key] = timings.get(key, 0.0) + value
    plans = [r.plan for r in reads]
    paths = {p["path"] for p in plans}
    minutes = [p["bucket_minutes"] for p in plans if p.get("bucket_minutes") is not None]
    plan: dict[str, Any] = {
        "path": paths.pop() if len(paths) == 1 else "mixed",
        "reason": "; ".join(dict.fromkeys(p["reason"] for p in plans)),
        "bucket_minutes": min(minutes) if minutes else None,
        "grain_rows": sum(p.get("grain_rows", 0) for p in plans),
        "reads": plans,
    }
    for key in ("rolled_lines", "raw_lines"):
        if any(key in p for p in plans):
            plan[key] = sorted({i for p in plans for i in p.get(key, [])})
    return GrainedRead(frames, max(r.rows for r in reads), timings, "sql", plan)


def _raw(rt: Runtime, slug: str, fragments: Sequence[SqlFragment], needs: list[FrameNeed]) -> GrainedRead:
    master = build_master_frame(rt, slug, fragments, master_columns_for(needs))
    t0 = time.perf_counter()
    frames = shape_frames(master.frame, needs)
    timings = {**master.timings, "grain": time.perf_counter() - t0}
    rows, reader = master.rows, master.reader
    del master
    return GrainedRead(frames, rows, timings, reader, {"grain_rows": _grain_rows(frames)})


def _grouped(
    rt: Runtime, slug: str, fragments: Sequence[SqlFragment], needs: list[FrameNeed],
    spec: GroupSpec, path: Path,
) -> GrainedRead:
    t0 = time.perf_counter()
    extra: dict[str, Any] = {"bucket_minutes": spec.minutes}
    if path == "rollup":
        finest, where = read_rollup_groups(rt, slug, fragments, spec)
        extra.update(where)
    else:
        finest = read_groups(rt, slug, fragments, spec)
    t1 = time.perf_counter()
    if finest is None:
        frames = {n: empty_grain(n) for n in needs}
        return GrainedRead(frames, 0, _zero(), "sql", {**extra, "grain_rows": 0})
    frames = {n: regrain(finest, n.columns, n.measures)[n.output_columns()] for n in needs}
    timings = {"query": 0.0, "fetch": t1 - t0, "dataframe": 0.0, "joins": 0.0,
               "grain": time.perf_counter() - t1}
    units = int(finest["units"].sum()) if len(finest) else 0
    return GrainedRead(frames, units, timings, "sql", {**extra, "grain_rows": len(finest)})


def _zero() -> dict[str, float]:
    return {"query": 0.0, "fetch": 0.0, "dataframe": 0.0, "joins": 0.0, "grain": 0.0}


def _grain_rows(frames: dict[FrameNeed, pd.DataFrame]) -> int:
    return max((len(f) for n, f in frames.items() if not n.raw), default=0)
