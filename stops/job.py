"""The gap-analysis job: each line's detections → `stops`, incrementally and idempotently.

Per line, the run starts at the earliest of the stored watermark (`stops_state.next_date`) and
the date marked dirty (late data, threshold or calendar changes), and walks production dates up
to today in chunks of CHUNK_DAYS. Each chunk reads the detection times of its shift instances
(plus the one before and after; on MySQL only the gaps longer than `micro_stop_s`, found by the
server with LAG()), computes its rows with the pure `stops.analysis` functions, and in ONE
transaction deletes the chunk's production dates
from `stops`, writes the new rows and moves the watermark. Rows depend only on the raw data of
their dates, so a rerun, or a rerun after a crash between chunks, leaves the rows of one clean
run. The watermark never passes the day before the last detection: the open stop after it, and
the dates it touches, are redone by the next run.

Each chunk locks the line's state row first and re-reads the dirty mark, which it folds in
(core/stops_state.py): a writer's mark made during a run sends the next chunk back to its date.

Only detections inside [the plant's history start, now] count (core/plausibility.py): a stray
row from decades ago is outside planned history and makes no stop, and a row stamped in the
future closes nothing. A chunk whose dates hold no detection stretches, with one index seek, up
to the next detection's date, so an empty range costs one chunk, not one per week.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import String, Table, and_, delete, func, insert, literal_column, select, type_coerce, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from core import schema_tenant as t
from core.clock import plant_now
from core.commit_guard import checkpoint
from core.db import is_mysql
from core.derived_state import bump_derived_version, ensure_derived_version
from core.metadata_cache import Line, TenantMeta, read_version
from core.plausibility import Plausibility
from core.runtime import Runtime
from core.shift_calendar import ShiftInstance, shift_instances
from core.timeutil import day_start
from stops.analysis import analyse_gaps, analyse_line

CHUNK_DAYS = 7
DAY = timedelta(days=1)


@dataclass
class LineRun:
    """What one line's analysis did (for the CLI and tests)."""

    line_id: int
    first_date: date | None = None
    last_date: date | None = None
    chunks: int = 0
    rows: int = 0


@dataclass(frozen=True)
class Span:
    """The detections the analysis may read: [since, until], the plant's history start to now."""

    since: datetime
    until: datetime

    def where(self, table: Table, lo: datetime | None = None, hi: datetime | None = None) -> ColumnElement:
        """`ts` in [lo, hi) and inside the span."""
        terms = [table.c.ts >= self.since, table.c.ts <= self.until]
        terms += [table.c.ts >= lo] if lo is not None else []
        terms += [table.c.ts < hi] if hi is not None else []
        return and_(*terms)


def _ts_micros(conn: Connection, table: Table, lo: datetime, hi: datetime, span: Span) -> np.ndarray:
    """SQLite: detection times in [lo, hi) as datetime64[us], sorted, parsed in one vectorised
    step from the DBAPI cursor's ISO text (SQLAlchemy's per-row processing costs more)."""
    query = select(type_coerce(table.c.ts, String)).where(span.where(table, lo, hi)).order_by(table.c.ts)
    values = [r[0] for r in conn.execute(query).cursor.fetchall()]
    if not values:
        return np.array([], dtype="datetime64[us]")
    return pd.to_datetime(pd.Series(values), format="ISO8601").to_numpy().astype("datetime64[us]")


def _neighbours(conn: Connection, table: Table, lo: datetime, hi: datetime,
                span: Span) -> tuple[datetime | None, ...]:
    before = conn.execute(select(func.max(table.c.ts)).where(span.where(table, hi=lo))).scalar()
    after = conn.execute(select(func.min(table.c.ts)).where(span.where(table, lo=hi))).scalar()
    return before, after


def _long_gaps_mysql(conn: Connection, table: Table, lo: datetime, hi: datetime, span: Span,
                     micro_stop_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Only the gaps longer than `micro_stop_s` inside [lo, hi), found by the server with LAG():
    PyMySQL parses one packet per row, so sending every detection would cost far more."""
    prev = func.lag(table.c.ts).over(order_by=table.c.ts)
    inner = select(table.c.ts.label("ts"), prev.label("prev")).where(span.where(table, lo, hi)).subquery()
    unit = literal_column("MICROSECOND")
    epoch = literal_column("'1970-01-01 00:00:00'")
    query = (
        select(func.timestampdiff(unit, epoch, inner.c.prev), func.timestampdiff(unit, epoch, inner.c.ts))
        .where(func.timestampdiff(unit, inner.c.prev, inner.c.ts) > int(micro_stop_s * 1_000_000))
    )
    rows = conn.execute(query).cursor.fetchall()
    pairs = np.asarray(rows, dtype=np.int64).reshape(-1, 2)
    return pairs[:, 0], pairs[:, 1]


def _analyse_mysql(conn: Connection, line: Line, instances: list[ShiftInstance], now: datetime,
                   lo: datetime, hi: datetime, span: Span) -> pd.DataFrame:
    table = t.detections_table(line.id)
    before, after = _neighbours(conn, table, lo, hi, span)
    first_in, last_in = conn.execute(
        select(func.min(table.c.ts), func.max(table.c.ts)).where(span.where(table, lo, hi))
    ).first()
    g_start, g_end = _long_gaps_mysql(conn, table, lo, hi, span, line.micro_stop_s)
    points = [p for p in (before, first_in, last_in, after) if p is not None]
    if not points:
        return analyse_gaps([], [], 0, instances, micro_stop_s=line.micro_stop_s,
                            stop_threshold_s=line.stop_threshold_s)
    edges = [(a, b) for a, b in ((before, first_in or after), (last_in, after))
             if a is not None and b is not None]  # the gaps into and out of the range
    starts = np.concatenate([g_start, np.array([_us_of(a) for a, _ in edges], dtype=np.int64)])
    ends = np.concatenate([g_end, np.array([_us_of(b) for _, b in edges], dtype=np.int64)])
    return analyse_gaps(starts, ends, _us_of(max(points)), instances, micro_stop_s=line.micro_stop_s,
                        stop_threshold_s=line.stop_threshold_s, now=now, more_after=after is not None)


def _us_of(moment: datetime) -> int:
    return int(np.datetime64(moment, "us").astype(np.int64))


def analyse_chunk(conn: Connection, line: Line, instances: list[ShiftInstance],
                  now: datetime, span: Span | None = None) -> pd.DataFrame:
    """Rows of one chunk of shift instances, read from the line's detections inside `span`
    (default: everything up to `now`)."""
    span = span or Span(datetime.min, now)
    table = t.detections_table(line.id)
    lo, hi = instances[0].start, max(i.end for i in instances)
    if is_mysql(conn.engine.url):
        return _analyse_mysql(conn, line, instances, now, lo, hi, span)
    ts = _ts_micros(conn, table, lo, hi, span)
    before, after = _neighbours(conn, table, lo, hi, span)
    parts = [np.array([before], dtype="datetime64[us]")] if before is not None else []
    parts.append(ts)
    if after is not None:
        parts.append(np.array([after], dtype="datetime64[us]"))
    return analyse_line(np.concatenate(parts), instances, micro_stop_s=line.micro_stop_s,
                        stop_threshold_s=line.stop_threshold_s, now=now, more_after=after is not None)


def _rows(line_id: int, frame: pd.DataFrame) -> list[dict]:
    out = []
    for r in frame.itertuples(index=False):
        start, end = r.start_ts.to_pydatetime(), r.end_ts.to_pydatetime()
        out.append({
            "line_id": line_id, "start_ts": start, "end_ts": end,
            "duration_s": (end - start).total_seconds(), "kind": r.kind,
            "downtime_s": float(r.downtime_s), "production_date": r.production_date,
            "shift_id": int(r.shift_id), "is_open": bool(r.is_open),
        })
    return out


def _locked_state(conn: Connection, line_id: int) -> tuple[date | None, date | None]:
    """(next_date, dirty_from) of a line, its row locked until the chunk commits: a no-op
    UPDATE locks on both backends (an InnoDB row lock, the SQLite write lock), so a writer's
    mark lands either before this chunk reads or after it commits (core/stops_state.py)."""
    c = t.stops_state.c
    conn.execute(update(t.stops_state).where(c.line_id == line_id).values(line_id=c.line_id))
    row = conn.execute(select(c.next_date, c.dirty_from).where(c.line_id == line_id)).first()
    if row is None:
        conn.execute(insert(t.stops_state).values(line_id=line_id, next_date=None, dirty_from=None))
        return None, None
    return row.next_date, row.dirty_from


def write_chunk(conn: Connection, line_id: int, first: date, last: date, frame: pd.DataFrame,
                watermark: date) -> int:
    """Replace the stops of production dates first..last, move the watermark and clear the
    dirty mark this chunk folded in (caller's tx, which holds the state row's lock)."""
    s = t.stops.c
    conn.execute(delete(t.stops).where(s.line_id == line_id, s.production_date >= first,
                                       s.production_date <= last))
    rows = _rows(line_id, frame)
    if rows:
        conn.execute(insert(t.stops), rows)
    conn.execute(update(t.stops_state).where(t.stops_state.c.line_id == line_id)
                 .values(next_date=watermark, dirty_from=None))
    bump_derived_version(conn)
    return len(rows)


def _chunk_last(conn: Connection, table: Table, day: date, final: date, span: Span) -> date:
    """The last production date of the chunk from `day`: CHUNK_DAYS on, or through an empty
    stretch up to the day before the next detection (one index seek), so that silent months or
    years cost one chunk. Any split gives the same rows: a chunk reads its neighbours."""
    last = min(day + timedelta(days=CHUNK_DAYS - 1), final)
    following = conn.execute(select(func.min(table.c.ts))
                             .where(span.where(table, lo=day_start(day)))).scalar()
    if following is None:
        return final
    return min(max(last, following.date() - DAY), final)


@dataclass(frozen=True)
class Plan:
    """What one line's walk needs to know, from the metadata it was read with."""

    meta: TenantMeta
    line: Line
    span: Span  # the detections read: the plant's history start to now
    earliest: date  # the production date before the first detection in the span
    keep_from: date  # the watermark stops here: later dates may still change


def _plan(rt: Runtime, meta: TenantMeta, line: Line, now: datetime) -> Plan | None:
    """The line's walk, or None when it has no detection in its span."""
    table = t.detections_table(line.id)
    span = Span(Plausibility.of(rt.settings).history_start(meta, now), now)
    with rt.db.tenant(meta.slug) as conn:
        if not conn.dialect.has_table(conn, table.name):
            return None
        ensure_derived_version(conn)
        first_ts, last_ts = conn.execute(select(func.min(table.c.ts), func.max(table.c.ts))
                                         .where(span.where(table))).first()
    if first_ts is None:
        return None
    # A night instance of the day before may hold the first detection; the open stop after the
    # last one, and the dates it touches, are redone by every run.
    return Plan(meta, line, span, first_ts.date() - DAY, last_ts.date() - DAY)


def _replanned(rt: Runtime, plan: Plan, now: datetime) -> Plan | None:
    """The plan from fresh metadata: an edit (thresholds, calendar, history start) committed
    since it was read, in the transaction that marked the dates it changes."""
    rt.meta.invalidate(plan.meta.slug)
    meta = rt.meta.get(plan.meta.slug)
    return _plan(rt, meta, meta.lines.get(plan.line.id, plan.line), now)


def analyse_line_range(rt: Runtime, meta: TenantMeta, line: Line, *,
                       max_chunks: int | None = None) -> LineRun:
    """Bring one line's stops up to date (see the module docstring)."""
    result = LineRun(line.id)
    table = t.detections_table(line.id)
    now = plant_now(rt.clock, meta.timezone)
    final = now.date()
    plan = _plan(rt, meta, line, now)
    cursor: date | None = None  # the next date of this run's walk
    while plan is not None and (max_chunks is None or result.chunks < max_chunks):
        with rt.db.tenant(meta.slug) as conn:
            next_date, dirty_from = _locked_state(conn, line.id)
            stale = read_version(conn) != plan.meta.version
            if not stale:
                if cursor is None:  # never analysed: from the first detection, whatever is marked
                    cursor = next_date if next_date is not None else plan.earliest
                day = max(min(d for d in (cursor, dirty_from) if d is not None), plan.earliest)
                if day > final:
                    if dirty_from is not None:
                        conn.execute(update(t.stops_state).where(t.stops_state.c.line_id == line.id)
                                     .values(dirty_from=None))
                    break
                last = _chunk_last(conn, table, day, final, plan.span)
                instances = shift_instances(plan.meta, line.id, day, last)
                frame = (analyse_chunk(conn, plan.line, instances, now, plan.span) if instances
                         else pd.DataFrame())
                result.rows += write_chunk(conn, line.id, day, last, frame, min(last + DAY, plan.keep_from))
                checkpoint(conn)
        if stale:
            plan = _replanned(rt, plan, now)
            continue
        result.first_date = day if result.first_date is None else min(result.first_date, day)
        result.last_date = last
        result.chunks += 1
        cursor = last + DAY
    return result


def analyse_tenant(rt: Runtime, slug: str, *, max_chunks: int | None = None) -> list[LineRun]:
    """Run the analysis for every line of one tenant."""
    meta = rt.meta.get(slug)
    return [analyse_line_range(rt, meta, line, max_chunks=max_chunks)
            for line in sorted(meta.lines.values(), key=lambda x: x.id)]
