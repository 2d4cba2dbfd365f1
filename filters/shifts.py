"""Multi-select of shifts, applied to the time of day of each detection.

A shift is a window of minutes after midnight; one that crosses midnight (22:00–06:00) is two
windows. The selected shifts' windows are merged, so the night shift becomes
`minute >= 1320 OR minute < 360` and selecting every shift of a full day adds no predicate.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, and_, or_

from filters._parse import search_text
from filters.base import filter_registry
from filters.multiselect import MultiSelectFilter
from query.spec import SqlFragment
from query.sql_time import minute_of_day

DAY = 1440


def merged_windows(windows: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Union of [start, end) minute windows, sorted and merged."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(windows):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


@filter_registry.register
class ShiftFilter(MultiSelectFilter):
    """Turnos: keeps detections whose local time of day falls in a selected shift."""

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

    def windows(self, value: frozenset[int]) -> list[tuple[int, int]]:
        """The merged minute windows covered by the selected shifts."""
        raw: list[tuple[int, int]] = []
        for shift_id in value:
            s = self.meta.shifts[shift_id]
            if s.crosses_midnight:
                raw += [(s.start_minute, DAY), (0, s.end_minute)]
            else:
                raw.append((s.start_minute, s.end_minute))
        return merged_windows([w for w in raw if w[0] < w[1]])

    def to_sql(self, value: frozenset[int] | None) -> SqlFragment:
        if value is None:
            return SqlFragment()
        windows = self.windows(value)
        if windows == [(0, DAY)]:
            return SqlFragment()

        def predicate(table: Table) -> Any:
            minute = minute_of_day(table.c.ts)
            parts = []
            for start, end in windows:
                if start == 0:
                    parts.append(minute < end)
                elif end == DAY:
                    parts.append(minute >= start)
                else:
                    parts.append(and_(minute >= start, minute < end))
            return or_(*parts) if parts else minute < 0

        return SqlFragment(predicate=predicate)
