"""Horas: keeps the hours of the day from `min` to `max` (08–12; 22–02 crosses midnight).

A filter kind built only on the filter contract: detections are narrowed by their time of day
in SQL (`to_sql`), plant data (planned time, stops, OEE) by the same minutes (`to_plant`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, and_, or_

from filters.base import BaseFilter, ValidationContext, filter_registry
from query.spec import MINUTES_PER_DAY, PlantScope, SqlFragment
from query.sql_time import minute_of_day


@dataclass(frozen=True)
class HourRange:
    """[start, end) in whole hours; end < start runs over midnight."""

    start: int
    end: int

    def day_minutes(self) -> tuple[tuple[int, int], ...]:
        """The kept minutes of the day as sorted [start, end) pairs."""
        lo, hi = self.start * 60, self.end * 60
        if lo < hi:
            return ((lo, hi),)
        return tuple(w for w in ((0, hi), (lo, MINUTES_PER_DAY)) if w[0] < w[1])


@filter_registry.register
class HourRangeFilter(BaseFilter):
    """Detections and plant time inside the chosen hours of every day."""

    kind = "hour_range"
    form = {"type": "range"}

    def validate(self, raw: Any, context: ValidationContext | None = None) -> HourRange | None:
        if raw is None or raw == "todos":
            return None
        if not isinstance(raw, Mapping):
            raise self.fail("indique la hora de inicio y la de fin")
        try:
            start, end = int(raw["min"]), int(raw["max"])
        except (KeyError, TypeError, ValueError):
            raise self.fail("indique la hora de inicio y la de fin") from None
        if not (0 <= start < 24 and 0 <= end <= 24) or start == end:
            raise self.fail("las horas van de 0 a 24 y no pueden coincidir")
        return HourRange(start, end)

    def to_json(self, value: HourRange | None) -> dict[str, int] | None:
        return None if value is None else {"min": value.start, "max": value.end}

    def to_sql(self, value: HourRange | None) -> SqlFragment:
        if value is None:
            return SqlFragment()
        windows = value.day_minutes()

        def predicate(table: Table) -> Any:
            minute = minute_of_day(table.c.ts)
            return or_(*(and_(minute >= lo, minute < hi) for lo, hi in windows))

        return SqlFragment(predicate=predicate)

    def to_plant(self, value: HourRange | None) -> PlantScope:
        return PlantScope() if value is None else PlantScope(day_minutes=value.day_minutes())
