"""The rollup job: each line's detections → `rollups`, incrementally, up to the last bucket.

Per line, `rollups_state.rolled_until` is the watermark (buckets before it are complete) and
`dirty_from` the earliest bucket that late data, an import of history or a nominal-weight
change asked to redo. Each run walks, in chunks of CHUNK, from the dirty mark (or the watermark;
on the first run from the line's first detection) up to the last bucket that ended before now
on the injected clock. Each chunk is ONE transaction that first locks the line's state row
(core/rollups_state.py explains why writers cannot slip between), re-reads the marks, rebuilds
the chunk's buckets with `rollups.rebuild.rebuild_rollups` and moves the marks. Chunks depend only
on raw rows, so a rerun, concurrent runs or a run killed between chunks leave the rows of one
clean run. An empty chunk stretches, with one index seek, to the next bucket holding data, so a
stray old row costs one chunk for the empty years after it. On MySQL the months a run will
write (those holding detections) get their partitions first (DDL commits, so it runs before the
chunks).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from core import partitions
from core import schema_tenant as t
from core.clock import plant_now
from core.commit_guard import checkpoint
from core.db import is_mysql
from core.metadata_cache import Line, TenantMeta
from core.rollup_grain import floor_to_grain
from core.runtime import Runtime
from rollups.rebuild import next_bucket, rebuild_rollups

CHUNK = timedelta(days=1)


@dataclass
class LineRollup:
    """What one line's run did (for the CLI, tests and the bench)."""

    line_id: int
    chunks: int = 0
    rows: int = 0


@dataclass(frozen=True)
class LineState:
    """A line's rollups_state row (see core/schema_tenant.py)."""

    rolled_until: datetime | None = None
    dirty_from: datetime | None = None
    dirty_until: datetime | None = None


def _ensure_state_row(conn: Connection, line_id: int) -> None:
    c = t.rollups_state.c
    if conn.execute(select(c.line_id).where(c.line_id == line_id)).first() is None:
        conn.execute(insert(t.rollups_state).values(line_id=line_id))


def locked_state(conn: Connection, line_id: int) -> LineState:
    """A line's state, its row locked until the transaction ends.

    A no-op UPDATE locks on both backends: an InnoDB row lock, the SQLite write lock (pysqlite
    opens the transaction at the first write, so the reads after it see the latest data).
    """
    c = t.rollups_state.c
    conn.execute(update(t.rollups_state).where(c.line_id == line_id).values(line_id=c.line_id))
    row = conn.execute(select(c.rolled_until, c.dirty_from, c.dirty_until)
                       .where(c.line_id == line_id)).first()
    return LineState(*row) if row is not None else LineState()


def _first_bucket(conn: Connection, line_id: int) -> datetime | None:
    first = conn.execute(select(func.min(t.detections_table(line_id).c.ts))).scalar()
    return floor_to_grain(first) if first is not None else None


@dataclass(frozen=True)
class Step:
    """One chunk to rebuild, and the state columns to write once it is done."""

    start: datetime
    end: datetime
    after: dict[str, datetime | None]


CLEAN: dict[str, datetime | None] = {"dirty_from": None, "dirty_until": None}


# (start, limit) → the first bucket holding a detection in [start, limit), or None
Following = Callable[[datetime, datetime], datetime | None]


def _chunk_end(start: datetime, limit: datetime, following: Following | None) -> datetime:
    """CHUNK after `start`; an empty chunk stretches to the next bucket holding data (or to
    `limit`), so empty months or years are one chunk, never one per day."""
    end = min(start + CHUNK, limit)
    if following is not None and start < end:
        found = following(start, limit)
        if found is None:
            return limit
        if found >= end:
            return found
    return end


def next_step(state: LineState, first: datetime | None, target: datetime,
              following: Following | None = None) -> Step | None:
    """The dirty range first, then forward from the watermark (or from the first detection, or
    from `target` when there is none yet); None when the line is up to date."""
    rolled = state.rolled_until
    if rolled is not None and state.dirty_from is not None and state.dirty_from < rolled:
        stop = min(rolled, state.dirty_until or rolled)
        end = _chunk_end(state.dirty_from, stop, following)
        return Step(state.dirty_from, end, CLEAN if end >= stop else {"dirty_from": end})
    start = rolled if rolled is not None else (first if first is not None else target)
    end = _chunk_end(start, target, following)
    if end <= start:
        return None
    return Step(start, end, {"rolled_until": end, **CLEAN})  # a mark at or past the watermark is moot


def _roll_chunk(conn: Connection, meta: TenantMeta, line_id: int,
                target: datetime) -> tuple[int | None, bool]:
    """Rebuild the next chunk of one line and move its marks: (rows written or None when there
    was nothing to do, whether more chunks remain)."""
    state = locked_state(conn, line_id)
    first = _first_bucket(conn, line_id) if state.rolled_until is None else None
    step = next_step(state, first, target, lambda lo, hi: next_bucket(conn, line_id, lo, hi))
    c = t.rollups_state.c
    if step is None:
        if state.rolled_until is None or state.dirty_from is not None:
            # No data yet: the watermark still moves, so history imported later counts as late.
            conn.execute(update(t.rollups_state).where(c.line_id == line_id)
                         .values(rolled_until=state.rolled_until or target, **CLEAN))
        return None, False
    rows = rebuild_rollups(conn, meta, line_id, step.start, step.end)
    conn.execute(update(t.rollups_state).where(c.line_id == line_id).values(**step.after))
    rolled = step.after.get("rolled_until", state.rolled_until)
    dirty = step.after.get("dirty_from", state.dirty_from)
    return rows, dirty is not None or rolled is None or rolled < target


def _prepare(rt: Runtime, meta: TenantMeta, target: datetime, earliest: datetime | None = None) -> list[int]:
    """The lines that have a detections table, each with a state row; on MySQL, partitions for
    every month from the earliest bucket this run may write to `target` (DDL: before chunks)."""
    with rt.db.tenant(meta.slug) as conn:
        lines = [i for i in sorted(meta.lines) if conn.dialect.has_table(conn, t.detections_table_name(i))]
        for line_id in lines:
            _ensure_state_row(conn, line_id)
        if is_mysql(conn.engine.url):
            c = t.rollups_state.c
            low = conn.execute(select(func.min(func.coalesce(c.dirty_from, c.rolled_until)))).scalar()
            firsts = [_first_bucket(conn, line_id) for line_id in lines]
            starts = [d for d in (low, earliest, *firsts) if d is not None]
            if starts:  # the months whose buckets hold detections, not every month between
                months = {partitions.month_start(target.date())}
                for line_id in lines:
                    months.update(partitions.months_holding(conn, t.detections_table_name(line_id),
                                                            since=min(starts).date(), until=target.date()))
                partitions.ensure_months(conn, t.rollups.name, months)
    return lines


def rebuild_line_range(rt: Runtime, meta: TenantMeta, line: Line, start: datetime,
                       end: datetime) -> LineRollup:
    """Rebuild one line's buckets of [start, end) by hand (`manage.py rollups rebuild`), in
    chunks under the job's lock; buckets not yet ended are left to the job. Marks unchanged."""
    result = LineRollup(line.id)
    end = min(end, floor_to_grain(plant_now(rt.clock, meta.timezone)))
    if end <= start:
        return result
    if line.id not in _prepare(rt, meta, end, start):
        return result
    chunk_start = start
    while chunk_start < end:
        chunk_end = min(chunk_start + CHUNK, end)
        with rt.db.tenant(meta.slug) as conn:
            locked_state(conn, line.id)  # ordered with the writers and the job
            result.rows += rebuild_rollups(conn, meta, line.id, chunk_start, chunk_end)
        result.chunks += 1
        chunk_start = chunk_end
    return result


def roll_line(rt: Runtime, meta: TenantMeta, line_id: int, target: datetime, *,
              max_chunks: int | None = None) -> LineRollup:
    """Bring one prepared line's rollups up to `target` (see the module docstring)."""
    result = LineRollup(line_id)
    more = True
    while more and (max_chunks is None or result.chunks < max_chunks):
        with rt.db.tenant(meta.slug) as conn:
            rows, more = _roll_chunk(conn, meta, line_id, target)
            checkpoint(conn)
        if rows is None:
            break
        result.chunks += 1
        result.rows += rows
    return result


def roll_tenant(rt: Runtime, slug: str, *, max_chunks: int | None = None) -> list[LineRollup]:
    """Run the rollups of every line of one tenant, up to the last bucket ended before now."""
    meta = rt.meta.get(slug)
    target = floor_to_grain(plant_now(rt.clock, meta.timezone))
    return [roll_line(rt, meta, line_id, target, max_chunks=max_chunks)
            for line_id in _prepare(rt, meta, target)]
