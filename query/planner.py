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
from typing import Any, Literal

import pandas as pd

from core.metadata_cache import TenantMeta
from core.runtime import Runtime
from query.grain import WEIGHT_MEASURES, FrameNeed, empty_grain, master_columns_for, regrain, shape_frames
from query.master_frame import build_master_frame
from query.pushdown import GroupSpec, read_groups
from query.rollup_read import read_rollup_groups, rollup_blocker
from query.spec import SqlFragment

Path = Literal["raw", "rollup", "pushdown"]
PATHS: tuple[Path, ...] = ("raw", "rollup", "pushdown")


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
    spec = group_spec(rt.meta.get(slug), needs)
    if path is None:
        plan = choose_plan(needs, rollup_blocker(spec, fragments))
    else:
        plan = Plan(path, "forced")
    if plan.path != "raw" and any(n.raw for n in needs):
        raise ValueError("raw-row needs cannot be read from groups")
    if plan.path == "raw":
        read = _raw(rt, slug, fragments, needs)
    else:
        read = _grouped(rt, slug, fragments, needs, spec, plan.path)
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
