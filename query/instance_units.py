"""Units and good units per shift instance of one line, from the rollups where they are complete.

The shift report needs (units, good) for every selected instance: a 30-day window over four
lines is ~360 instances, twice with the previous period. Counting detections per instance costs
the number of detections; summing 5-minute rollups costs the number of buckets. Instance edges
are whole minutes of the day, so the instances are unions of `step`-minute slots (step: the gcd
of every edge and the day). Per line:

- slots below the line's watermark and outside its dirty range (both widened outward to whole
  slots) are summed from the rollups by one GROUP BY over the slot index;
- the rest of each instance (the newest slots, a dirty range, or every slot when the line has
  no rollups or the edges are not on 5-minute buckets) is counted from the detections by one
  indexed range count per piece, as before.

Both parts count exactly the detections of [start, end), so the answer equals a plain COUNT.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import and_, bindparam, case, func, not_, select
from sqlalchemy.engine import Connection

from core import schema_tenant as t
from core.rollup_grain import GRAIN_SECONDS
from core.shift_calendar import ShiftInstance
from query.pushdown import bucket_index
from query.rollup_read import LineState, line_states

EPOCH = datetime(1970, 1, 1)
MINUTES_PER_DAY = 24 * 60

Span = tuple[datetime, datetime]


def slot_minutes(instances: Sequence[ShiftInstance]) -> int | None:
    """The coarsest slot (minutes dividing the day) every instance edge falls on; None when an
    edge is not on a rollup bucket edge."""
    edges = [MINUTES_PER_DAY]
    for inst in instances:
        for edge in (inst.start, inst.end):
            if edge.second or edge.microsecond:
                return None
            edges.append(edge.hour * 60 + edge.minute)
    step = math.gcd(*edges)
    return step if step * 60 % GRAIN_SECONDS == 0 else None


def _floor(value: datetime, step: int) -> datetime:
    seconds = int((value - EPOCH).total_seconds()) // (step * 60) * (step * 60)
    return EPOCH + timedelta(seconds=seconds)


def _ceil(value: datetime, step: int) -> datetime:
    low = _floor(value, step)
    return low if low == value else low + timedelta(minutes=step)


def _slot(value: datetime, step: int) -> int:
    return int((value - EPOCH).total_seconds()) // (step * 60)


def rolled_bounds(state: LineState, step: int) -> tuple[datetime | None, Span | None]:
    """The watermark floored and the dirty range widened to whole slots (what rollups answer)."""
    if state.rolled_until is None:
        return None, None
    dirty = None
    low, high = state.dirty_from, state.dirty_until
    if low is not None and high is not None and low < high:
        dirty = (_floor(low, step), _ceil(high, step))
    return _floor(state.rolled_until, step), dirty


def split(start: datetime, end: datetime, rolled_until: datetime | None,
          dirty: Span | None) -> tuple[list[Span], list[Span]]:
    """[start, end) as (pieces the rollups answer, pieces counted from detections)."""
    if rolled_until is None:
        return [], [(start, end)]
    rolled: list[Span] = []
    raw: list[Span] = []
    low_end = min(end, rolled_until)
    pieces = [(start, low_end)] if start < low_end else []
    if dirty is not None:
        cut: list[Span] = []
        for lo, hi in pieces:
            inner = (max(lo, dirty[0]), min(hi, dirty[1]))
            if inner[0] < inner[1]:
                raw.append(inner)
                cut += [p for p in ((lo, inner[0]), (inner[1], hi)) if p[0] < p[1]]
            else:
                cut.append((lo, hi))
        pieces = cut
    rolled += pieces
    if end > max(start, rolled_until):
        raw.append((max(start, rolled_until), end))
    return rolled, raw


def _rolled_slots(conn: Connection, line_id: int, step: int, lo: datetime, hi: datetime,
                  dirty: Span | None) -> dict[int, tuple[int, int]]:
    """(units, rejects) per slot index of [lo, hi) from the rollups, outside `dirty`: from the
    hourly tier when slots are whole hours (its rows below the watermark then stand for complete
    hours: lo, hi and `dirty` are slot edges below the watermark floored to the slot)."""
    r = (t.rollups_hourly if step % 60 == 0 else t.rollups).c
    slot = bucket_index(r.bucket_start, step)
    conds = [r.line_id == line_id, r.bucket_start >= lo, r.bucket_start < hi]
    if dirty is not None:
        conds.append(not_(and_(r.bucket_start >= dirty[0], r.bucket_start < dirty[1])))
    rows = conn.execute(
        select(slot, func.sum(r.units), func.sum(case((r.status == t.STATUS_REJECT, r.units), else_=0)))
        .where(*conds).group_by(slot)
    ).all()
    return {int(row[0]): (int(row[1] or 0), int(row[2] or 0)) for row in rows}


def units_by_instance(conn: Connection, line_id: int, instances: Sequence[ShiftInstance]
                      ) -> dict[tuple[date, int], tuple[int, int]]:
    """(units, good) per (production date, shift id) of one line's instances (or of their
    pieces: several with one key are summed)."""
    out: dict[tuple[date, int], tuple[int, int]] = {}
    if not instances or not conn.dialect.has_table(conn, t.detections_table_name(line_id)):
        return out
    step = slot_minutes(instances)
    rolled_until, dirty = (None, None)
    if step is not None:
        rolled_until, dirty = rolled_bounds(line_states(conn, [line_id])[line_id], step)
    slots: dict[int, tuple[int, int]] = {}
    if rolled_until is not None and step is not None:
        lo = min(i.start for i in instances)
        hi = min(max(i.end for i in instances), rolled_until)
        if lo < hi:
            slots = _rolled_slots(conn, line_id, step, lo, hi, dirty)
    d = t.detections_table(line_id)
    count = (select(func.count(), func.sum(case((d.c.status == t.STATUS_REJECT, 1), else_=0)))
             .where(d.c.ts >= bindparam("lo"), d.c.ts < bindparam("hi")))
    for inst in instances:
        rolled, raw = split(inst.start, inst.end, rolled_until, dirty)
        units = rejects = 0
        for lo, hi in rolled:
            for index in range(_slot(lo, step), _slot(hi, step)):  # type: ignore[arg-type]
                u, r = slots.get(index, (0, 0))
                units, rejects = units + u, rejects + r
        for lo, hi in raw:
            u, r = conn.execute(count, {"lo": lo, "hi": hi}).one()
            units, rejects = units + int(u or 0), rejects + int(r or 0)
        key = (inst.production_date, inst.shift_id)
        before_units, before_good = out.get(key, (0, 0))  # pieces of one instance add up
        out[key] = (before_units + units, before_good + units - rejects)
    return out
