"""The rollup read: grained frames from the `rollups` table, the newest rows read from raw.

Rollups (rollups/job.py) hold per line × 5-minute bucket × product × status the measures of
query/grain.py. A run may read them when nothing it asks needs a finer look at a detection:

- every filter predicate reads only `product_id` / `status` (a weight range does not fit);
- every time edge of the selection (date window, shift instances) is a bucket edge;
- every time dimension asked can be derived from 5-minute buckets (query/pushdown.py's bucket
  is a multiple of ROLLUP_GRAIN).

Per line, buckets before `rolled_until` and outside its dirty range are complete and come from
the rollups (one GROUP BY to the layout's grain); the rest (the newest, not yet rolled buckets,
and the range a late import marked dirty) is grouped from the detections by the push-down, and
both parts are concatenated before each widget folds its own grain.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Column, ColumnElement, Table, and_, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.visitors import iterate

from core.rollup_grain import GRAIN_SECONDS, floor_to_grain
from core.runtime import Runtime
from core.schema_tenant import detections_table, rollups, rollups_hourly, rollups_state
from query.builder import is_empty_window, resolve_line_ids, restates_time_range, time_ranges, time_window
from query.pushdown import GroupSpec, bucket_index, groups_frame, measure_columns, read_groups, source_keys
from query.readers.deadline import dashboard_wait, statement_deadline
from query.spec import SqlFragment
from query.sql_time import in_ranges

ROLLUP_FILTER_COLUMNS = frozenset({"product_id", "status"})
"""Detection columns a filter predicate may read for the rollups to answer it."""

FAR_FUTURE = datetime(9000, 1, 1)
GRAIN_MINUTES = GRAIN_SECONDS // 60


@dataclass(frozen=True)
class LineState:
    """One line's rollup watermark: complete below `rolled_until` except [dirty_from, dirty_until)."""

    line_id: int
    rolled_until: datetime | None
    dirty_from: datetime | None = None
    dirty_until: datetime | None = None

    def raw_ranges(self) -> tuple[tuple[datetime, datetime], ...] | None:
        """The [start, end) ranges the rollups do not cover (None: the whole line)."""
        if self.rolled_until is None:
            return None
        tail = (self.rolled_until, FAR_FUTURE)
        if self.dirty_from is None or self.dirty_until is None or self.dirty_from >= self.dirty_until:
            return (tail,)
        if self.dirty_until >= self.rolled_until:
            return ((min(self.dirty_from, self.rolled_until), FAR_FUTURE),)
        return ((self.dirty_from, self.dirty_until), tail)


def time_edges(fragments: Sequence[SqlFragment]) -> list[datetime]:
    """Every time edge of the selection: the date window's and each shift range's."""
    window = time_window(fragments)
    edges = list(window or ())
    for lo, hi in time_ranges(fragments, window) or ():
        edges += [lo, hi]
    return edges


def rollup_blocker(spec: GroupSpec, fragments: Sequence[SqlFragment]) -> str | None:
    """Why the rollups cannot answer this selection at this grain; None when they can."""
    if spec.minutes is not None and spec.minutes % GRAIN_MINUTES:
        return f"time dimensions need {spec.minutes}-minute buckets, rollups have {GRAIN_MINUTES}"
    if any(floor_to_grain(edge) != edge for edge in time_edges(fragments)):
        return f"a time filter edge is not on a {GRAIN_MINUTES}-minute bucket edge"
    probe = detections_table(1)
    for frag in fragments:
        if frag.predicate is None or restates_time_range(frag, probe):
            continue
        read = {c.name for c in iterate(frag.predicate(probe)) if isinstance(c, Column)}
        if read - ROLLUP_FILTER_COLUMNS:
            return f"a filter reads {', '.join(sorted(read - ROLLUP_FILTER_COLUMNS))} of each detection"
    return None


def line_states(conn: Connection, line_ids: Sequence[int]) -> dict[int, LineState]:
    """Every line's watermark (a line without a state row has no rollups)."""
    s = rollups_state.c
    rows = conn.execute(select(s.line_id, s.rolled_until, s.dirty_from, s.dirty_until)
                        .where(s.line_id.in_(list(line_ids)))).all()
    found = {int(r[0]): LineState(int(r[0]), r[1], r[2], r[3]) for r in rows}
    return {i: found.get(i, LineState(i, None)) for i in line_ids}


def _hour_floor(value: datetime) -> datetime:
    return value.replace(minute=0, second=0, microsecond=0)


def _hour_ceil(value: datetime) -> datetime:
    low = _hour_floor(value)
    return low if low == value else low + timedelta(hours=1)


def hourly_fits(spec: GroupSpec, fragments: Sequence[SqlFragment]) -> bool:
    """Whether the hourly tier can answer: time dimensions in whole hours and every time edge of
    the selection on an hour (its rows stand for whole hours)."""
    if spec.minutes is not None and spec.minutes % 60:
        return False
    return all(_hour_floor(edge) == edge for edge in time_edges(fragments))


def _outside(column: Any, span: tuple[datetime, datetime] | None) -> list[ColumnElement[bool]]:
    return [] if span is None else [or_(column < span[0], column >= span[1])]


def tier_conditions(state: LineState, hourly: bool) -> list[tuple[Table, list[Any]]]:
    """(table, conditions) covering the line's complete buckets exactly once.

    Without the hourly tier: the 5-minute rows below the watermark outside the dirty range. With
    it: whole hours below the watermark floored to the hour and outside the dirty range widened
    to hours from `rollups_hourly`, and the other complete buckets (the hour the watermark is in,
    the clean buckets of a partly dirty hour) from the 5-minute rows.
    """
    assert state.rolled_until is not None
    r = rollups.c
    dirty = (state.dirty_from, state.dirty_until) if state.dirty_from is not None and \
        state.dirty_until is not None and state.dirty_from < state.dirty_until else None
    five = [r.bucket_start < state.rolled_until, *_outside(r.bucket_start, dirty)]
    if not hourly:
        return [(rollups, five)]
    hour_mark = _hour_floor(state.rolled_until)
    wide = (_hour_floor(dirty[0]), _hour_ceil(dirty[1])) if dirty else None
    h = rollups_hourly.c
    newest = r.bucket_start >= hour_mark
    if wide is not None:
        newest = or_(newest, and_(r.bucket_start >= wide[0], r.bucket_start < wide[1]))
    return [(rollups_hourly, [h.bucket_start < hour_mark, *_outside(h.bucket_start, wide)]),
            (rollups, [*five, newest])]


def _rollup_statement(spec: GroupSpec, table: Table, conditions: list[Any], line_ids: Sequence[int],
                      fragments: Sequence[SqlFragment]) -> Any:
    r = table.c
    keys = source_keys(spec.dims)
    cols: list[Any] = [r.line_id] + [r[k] for k in keys[1:]]
    groups: list[Any] = list(cols)
    if spec.minutes is not None:
        bucket = bucket_index(r.bucket_start, spec.minutes)
        cols.append(bucket.label("bucket"))
        groups.append(bucket)
    conds: list[ColumnElement[bool]] = [r.line_id.in_(list(line_ids)), *conditions]
    window = time_window(fragments)
    ranges = time_ranges(fragments, window)
    if ranges is not None:
        conds.append(in_ranges(r.bucket_start, ranges))
    elif window is not None:
        conds += [r.bucket_start >= window[0], r.bucket_start < window[1]]
    conds += [f.predicate(table) for f in fragments
              if f.predicate is not None and not restates_time_range(f, detections_table(1))]
    return select(*cols, *measure_columns(table, spec.weights)).where(and_(*conds)).group_by(*groups)


def read_rollup_groups(
    rt: Runtime, slug: str, fragments: Sequence[SqlFragment], spec: GroupSpec
) -> tuple[pd.DataFrame | None, dict[str, Any]]:
    """The grouped detections the fragments select, from rollups plus the raw remainder, and
    what was read where (`rolled_lines`, `raw_lines`)."""
    meta = rt.meta.get(slug)
    line_ids = resolve_line_ids(meta, fragments)
    window = time_window(fragments)
    if not line_ids or is_empty_window(window) or time_ranges(fragments, window) == []:
        return None, {}
    with dashboard_wait(rt.settings.query_timeout_s), rt.db.tenant(slug) as conn:
        states = line_states(conn, line_ids)
        groups = same_marks(states.values())
        rolled = [(state, ids) for state, ids in groups if state.rolled_until is not None]
        hourly = hourly_fits(spec, fragments)
        with statement_deadline(rt.settings.query_timeout_s, conn):
            rows = [tuple(row) for state, ids in rolled
                    for table, conditions in tier_conditions(state, hourly)
                    for row in conn.execute(_rollup_statement(spec, table, conditions, ids, fragments))]
    parts = [groups_frame(spec, rows, meta)]
    raw_lines: list[int] = []
    for state, ids in groups:
        ranges = state.raw_ranges()
        extra = SqlFragment(line_ids=frozenset(ids))
        if ranges is not None:
            extra = SqlFragment(line_ids=frozenset(ids), time_ranges=ranges,
                                time_range=(ranges[0][0], ranges[-1][1]))
        remainder = read_groups(rt, slug, [*fragments, extra], spec)
        if remainder is not None:
            parts.append(remainder)
            raw_lines += ids
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    rolled_lines = sorted(i for _, ids in rolled for i in ids)
    return frame, {"rolled_lines": rolled_lines, "raw_lines": sorted(raw_lines), "hourly_tier": hourly}


def same_marks(states: Iterable[LineState]) -> list[tuple[LineState, list[int]]]:
    """Lines grouped by identical marks (one job run usually leaves every line at the same
    watermark), so a run reads the rollups and the raw remainder once per group, not per line."""
    groups: dict[tuple, list[int]] = {}
    first: dict[tuple, LineState] = {}
    for state in states:
        key = (state.rolled_until, state.dirty_from, state.dirty_until)
        groups.setdefault(key, []).append(state.line_id)
        first.setdefault(key, state)
    return [(first[key], sorted(ids)) for key, ids in groups.items()]
