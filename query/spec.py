"""What a filter contributes to the dashboard query; the query builder combines these.

A filter never writes SQL text: it names the lines it restricts to, the time window it keeps
(used for partition routing too), the `ts` ranges inside that window (shift instances), and/or a
predicate built with SQLAlchemy Core against one line's detections table, with bound parameters
only. Plant data (planned time, shift instances, stops, OEE) is not read from detections: a
filter narrows it with a PlantScope instead (which shifts, which minutes of the day).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Table

Predicate = Callable[[Table], ColumnElement[bool]]


@dataclass(frozen=True)
class SqlFragment:
    """One filter's contribution; every field is optional and they combine with AND."""

    predicate: Predicate | None = None
    line_ids: frozenset[int] | None = None
    time_range: tuple[datetime, datetime] | None = None  # [start, end) in plant local time
    # Sorted, disjoint [start, end) ranges the rows must fall in (any of them); `time_range` is
    # then their bounding window. The builder emits them as one sargable OR of `ts` ranges.
    time_ranges: tuple[tuple[datetime, datetime], ...] | None = None


DayMinutes = tuple[tuple[int, int], ...]
MINUTES_PER_DAY = 1440


def _intersect_minutes(a: DayMinutes | None, b: DayMinutes | None) -> DayMinutes | None:
    if a is None or b is None:
        return b if a is None else a
    return tuple((max(s1, s2), min(e1, e2)) for s1, e1 in a for s2, e2 in b if max(s1, s2) < min(e1, e2))


@dataclass(frozen=True)
class PlantScope:
    """How one filter value narrows plant data; every field is optional (None: no restriction)
    and scopes combine with AND.

    `shift_ids` keeps only those shifts' instances. `day_minutes` keeps only those plant-local
    minutes of every day, as sorted, disjoint [start, end) pairs in 0..1440: planned time,
    units, stops and their downtime count only inside them.
    """

    shift_ids: frozenset[int] | None = None
    day_minutes: DayMinutes | None = None

    def __and__(self, other: PlantScope) -> PlantScope:
        shifts = self.shift_ids if other.shift_ids is None else (
            other.shift_ids if self.shift_ids is None else self.shift_ids & other.shift_ids)
        return PlantScope(shifts, _intersect_minutes(self.day_minutes, other.day_minutes))
