"""Multi-select of shifts: the shift *instances* of the selected production days.

"5 Oct + Noche" is 22:00 5 Oct → 06:00 6 Oct (a shift belongs to the production day it starts).
The date filter is validated first and its window handed over in the ValidationContext; the
selection becomes one `ts` range per shift instance (contiguous instances merged, clipped to the
date window), so the SQL stays sargable: the `ts` index and partition pruning do the work.
Without a date window (no date filter), or when a huge selection would need more than
MAX_WINDOWS ranges, it falls back to a time-of-day predicate, which is equivalent inside a
window of whole production days but reads every row of the window.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, and_, or_

from core.production_days import DAY, Window, clip_windows, merge_windows, production_date, shift_windows
from filters._parse import search_text
from filters.base import ValidationContext, filter_registry
from filters.date_range import DateRange
from filters.multiselect import MultiSelectFilter
from query.spec import PlantScope, SqlFragment
from query.sql_time import minute_of_day

MINUTES_PER_DAY = 1440
MAX_WINDOWS = 1500  # 366 days × 4 shifts; beyond it the time-of-day fallback is used


def merged_windows(windows: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Union of [start, end) minute-of-day windows, sorted and merged."""
    return merge_windows(windows)


@dataclass(frozen=True)
class ShiftSelection:
    """The selected shift ids and the date window whose production days they apply to."""

    ids: frozenset[int]
    window: Window | None = None


@filter_registry.register
class ShiftFilter(MultiSelectFilter):
    """Turnos: keeps detections inside the selected shifts' instances of the selected days."""

    dimension = "shift"

    def _build_options(self) -> list[dict]:
        shifts = sorted(self.meta.shifts.values(), key=lambda s: (s.start, s.id))
        return [
            {
                "value": s.id,
                "label": s.name,
                "code": s.code,
                "start": s.start.strftime("%H:%M"),
                "end": s.end.strftime("%H:%M"),
                "crosses_midnight": s.crosses_midnight,
                "search": search_text(s.code, s.name),
            }
            for s in shifts
        ]

    def validate(self, raw: Any, context: ValidationContext | None = None) -> ShiftSelection | None:
        ids = super().validate(raw, context)
        if ids is None:
            return None
        return ShiftSelection(ids, _date_window(context))

    def to_json(self, value: ShiftSelection | None) -> list[int] | str:  # type: ignore[override]
        return super().to_json(None if value is None else value.ids)

    def minute_windows(self, ids: frozenset[int]) -> list[tuple[int, int]]:
        """The merged minute-of-day windows covered by the selected shifts (fallback only)."""
        raw: list[tuple[int, int]] = []
        for shift_id in ids:
            s = self.meta.shifts[shift_id]
            if s.crosses_midnight:
                raw += [(s.start_minute, MINUTES_PER_DAY), (0, s.end_minute)]
            else:
                raw.append((s.start_minute, s.end_minute))
        return merged_windows([w for w in raw if w[0] < w[1]])

    def instances(self, value: ShiftSelection) -> list[Window] | None:
        """The merged, clipped `ts` ranges of the selection; None when the fallback applies."""
        if value.window is None:
            return None
        lo, hi = value.window
        offset = self.meta.day_offset
        # One day either side: an instance that started the day before may reach into the window.
        first = production_date(lo, offset) - DAY
        last = production_date(hi, offset)
        if (last - first).days * len(value.ids) > MAX_WINDOWS:
            return None
        shifts = [self.meta.shifts[i] for i in sorted(value.ids)]
        windows = clip_windows(shift_windows(shifts, first, last, offset), value.window)
        return windows if len(windows) <= MAX_WINDOWS else None

    def to_sql(self, value: ShiftSelection | None) -> SqlFragment:
        if value is None:
            return SqlFragment()
        windows = self.instances(value)
        if windows is None:
            return self._time_of_day(value.ids)
        if windows == [value.window]:
            return SqlFragment()  # the selected shifts cover the whole window
        bounds = (windows[0][0], windows[-1][1]) if windows else value.window
        return SqlFragment(time_range=bounds, time_ranges=tuple(windows))

    def to_plant(self, value: ShiftSelection | None) -> PlantScope:
        """Only the selected shifts' instances count (planned time, stops, OEE)."""
        return PlantScope() if value is None else PlantScope(shift_ids=value.ids)

    def _time_of_day(self, ids: frozenset[int]) -> SqlFragment:
        windows = self.minute_windows(ids)
        if windows == [(0, MINUTES_PER_DAY)]:
            return SqlFragment()

        def predicate(table: Table) -> Any:
            minute = minute_of_day(table.c.ts)
            parts = []
            for start, end in windows:
                if start == 0:
                    parts.append(minute < end)
                elif end == MINUTES_PER_DAY:
                    parts.append(minute >= start)
                else:
                    parts.append(and_(minute >= start, minute < end))
            return or_(*parts) if parts else minute < 0

        return SqlFragment(predicate=predicate)


def _date_window(context: ValidationContext | None) -> Window | None:
    """The request's date window (the first DateRange value validated before this filter)."""
    if context is None:
        return None
    for value in context.values.values():
        if isinstance(value, DateRange):
            return value.start, value.end
    return None


__all__ = ["MAX_WINDOWS", "ShiftFilter", "ShiftSelection", "merged_windows"]
