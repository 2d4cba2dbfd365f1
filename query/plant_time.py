"""The plant time a selection keeps: shift instances cut to the chosen minutes of the day.

A time-of-day restriction (`PlantScope.day_minutes`) keeps, on every calendar day an instance
spans, only those minutes: the instance becomes pieces (same production date and shift) whose
planned intervals are its planned time inside them. Planned time, units, stops and downtime are
then counted over the pieces. A stop counts when part of its planned time falls in a piece, with
only that part as downtime (gap analysis splits stops over instances by the same rule); a
micro-stop counts when it starts in a piece. Without a restriction an instance is its own piece.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta

from core.production_days import merge_windows
from core.shift_calendar import DAY, Interval, ShiftInstance
from query.spec import DayMinutes


def day_spans(start: datetime, end: datetime, minutes: DayMinutes) -> list[Interval]:
    """The parts of [start, end) inside `minutes` of each calendar day, merged across midnight."""
    out: list[Interval] = []
    day = datetime.combine(start.date(), time())
    while day < end:
        for lo, hi in minutes:
            a, b = max(start, day + timedelta(minutes=lo)), min(end, day + timedelta(minutes=hi))
            if a < b:
                out.append((a, b))
        day += DAY
    return merge_windows(out)


def kept_pieces(inst: ShiftInstance, minutes: DayMinutes | None) -> list[ShiftInstance]:
    """The pieces of one instance inside `minutes` (the instance itself when None)."""
    if minutes is None:
        return [inst]
    pieces = []
    for a, b in day_spans(inst.start, inst.end, minutes):
        planned = tuple((max(s, a), min(e, b)) for s, e in inst.planned if max(s, a) < min(e, b))
        pieces.append(ShiftInstance(inst.production_date, inst.shift_id, a, b, planned))
    return pieces


def overlap_s(start: datetime, end: datetime, intervals: Sequence[Interval]) -> float:
    """Seconds of [start, end) inside the intervals (disjoint)."""
    return sum(max(0.0, (min(e, end) - max(s, start)).total_seconds()) for s, e in intervals)


def kept_stop(kind: str, start: datetime, end: datetime, downtime_s: float,
              pieces: Sequence[ShiftInstance]) -> tuple[float, datetime, datetime] | None:
    """(downtime, first and last kept instant) of one `stops` row inside the pieces; None when
    the row falls outside them."""
    spans = [(max(p.start, start), min(p.end, end)) for p in pieces if max(p.start, start) < min(p.end, end)]
    if kind != "stop":
        return (downtime_s, start, end) if any(p.start <= start < p.end for p in pieces) else None
    kept = sum(overlap_s(start, end, p.planned) for p in pieces)
    if kept <= 0 or not spans:
        return None
    return min(kept, downtime_s), spans[0][0], spans[-1][1]
