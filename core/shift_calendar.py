"""The shift calendar: shift instances of a line and their planned production time.

A shift *instance* is one shift on one production date: [start, end) in naive plant-local
time; a shift that crosses midnight belongs to the date it starts on. Its planned intervals are
the window minus its planned breaks; an instance on a weekday the shift does not work, or on a
plant- or line-closed day, has no planned time at all. Pure functions over a TenantMeta
snapshot: no database, no clock. Local time is naive, like the stored detections, so a
daylight-saving change makes one night an hour longer or shorter in real time (not modelled).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from core.metadata_cache import Shift, TenantMeta

DAY = timedelta(days=1)
Interval = tuple[datetime, datetime]


@dataclass(frozen=True, slots=True)
class ShiftInstance:
    """One shift on one production date, with the intervals planned for production."""

    production_date: date
    shift_id: int
    start: datetime
    end: datetime
    planned: tuple[Interval, ...]

    @property
    def planned_s(self) -> float:
        """Planned production seconds (window − breaks; 0 on a non-working day)."""
        return sum((e - s).total_seconds() for s, e in self.planned)


def _at(day: date, moment: time) -> datetime:
    return datetime.combine(day, moment)


def shift_window(shift: Shift, day: date) -> Interval:
    """[start, end) of `shift` on production date `day`."""
    start = _at(day, shift.start)
    end = _at(day + DAY if shift.crosses_midnight else day, shift.end)
    return start, end


def break_windows(shift: Shift, day: date) -> list[Interval]:
    """The planned breaks of one instance, placed inside its window (a break after midnight
    of a night shift falls on the next calendar day)."""
    start, end = shift_window(shift, day)
    out: list[Interval] = []
    for brk in shift.breaks:
        b_start = _at(day, brk.start)
        if b_start < start:
            b_start += DAY
        b_end = _at(b_start.date(), brk.end)
        if b_end <= b_start:
            b_end += DAY
        b_start, b_end = max(b_start, start), min(b_end, end)
        if b_start < b_end:
            out.append((b_start, b_end))
    return sorted(out)


def subtract(window: Interval, holes: list[Interval]) -> tuple[Interval, ...]:
    """`window` minus sorted `holes`, as sorted disjoint intervals."""
    out: list[Interval] = []
    cursor, end = window
    for h_start, h_end in holes:
        if h_start > cursor:
            out.append((cursor, min(h_start, end)))
        cursor = max(cursor, h_end)
        if cursor >= end:
            break
    if cursor < end:
        out.append((cursor, end))
    return tuple((s, e) for s, e in out if s < e)


def is_working(meta: TenantMeta, line_id: int, shift: Shift, day: date) -> bool:
    """False on the shift's days off and on closed days of the plant or the line."""
    return day.isoweekday() in shift.weekdays and not meta.is_closed(line_id, day)


def shift_instances(meta: TenantMeta, line_id: int, first: date, last: date) -> list[ShiftInstance]:
    """Every shift instance of production dates first..last (inclusive), in time order."""
    shifts = sorted(meta.shifts.values(), key=lambda s: (s.start, s.id))
    out: list[ShiftInstance] = []
    day = first
    while day <= last:
        for shift in shifts:
            window = shift_window(shift, day)
            working = is_working(meta, line_id, shift, day)
            planned = subtract(window, break_windows(shift, day)) if working else ()
            out.append(ShiftInstance(day, shift.id, window[0], window[1], planned))
        day += DAY
    return out


def production_dates(first: date, last: date) -> Iterator[date]:
    """first..last inclusive."""
    day = first
    while day <= last:
        yield day
        day += DAY


def production_date_of(meta: TenantMeta, moment: datetime) -> date:
    """The production date a local moment belongs to (the day its shift started)."""
    for shift in meta.shifts.values():
        for day in (moment.date(), moment.date() - DAY):
            start, end = shift_window(shift, day)
            if start <= moment < end:
                return day
    return moment.date()
