"""Production days: a plant's day starts at its first shift (e.g. 06:00), not at midnight.

Everything here is naive plant-local wall time, like the stored detections: adding a day keeps
the wall-clock time, so a day with a DST change simply holds 23 or 25 real hours and a shift
instance is always "its start time on its day → its end time", never an offset in UTC.
A shift instance belongs to the production day on which it starts.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import TypeVar

from core.metadata_cache import Shift
from core.timeutil import day_start

DAY = timedelta(days=1)
Window = tuple[datetime, datetime]
Point = TypeVar("Point", datetime, int)


def offset_of(moment: time) -> timedelta:
    """A time of day as the distance from midnight."""
    return timedelta(hours=moment.hour, minutes=moment.minute)


def production_date(moment: datetime, offset: timedelta) -> date:
    """The production day a local instant belongs to (03:00 with days from 06:00: the day before)."""
    return (moment - offset).date()


def days_window(first: date, last: date, offset: timedelta) -> Window:
    """[start of production day `first`, start of the day after `last`)."""
    return day_start(first) + offset, day_start(last) + DAY + offset


def window_days(window: Window, offset: timedelta) -> tuple[date, date]:
    """First and last production date (inclusive) of a [start, end) window: days_window undone."""
    start, end = (moment - offset for moment in window)
    return start.date(), max(start, end - timedelta(microseconds=1)).date()


def shift_instance(shift: Shift, day: date, offset: timedelta) -> Window:
    """[start, end) of `shift` on production day `day`, in wall time."""
    start_day = day + DAY if offset_of(shift.start) < offset else day
    end_day = start_day + DAY if shift.crosses_midnight else start_day
    return (
        day_start(start_day) + offset_of(shift.start),
        day_start(end_day) + offset_of(shift.end),
    )


def merge_windows(windows: Iterable[tuple[Point, Point]]) -> list[tuple[Point, Point]]:
    """Union of [start, end) windows (instants or minutes), sorted, touching ones merged."""
    merged: list[tuple[Point, Point]] = []
    for start, end in sorted(windows):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def shift_windows(shifts: Iterable[Shift], first: date, last: date, offset: timedelta) -> list[Window]:
    """The merged instances of `shifts` on the production days first..last."""
    chosen = list(shifts)
    raw = []
    day = first
    while day <= last:
        raw += [shift_instance(s, day, offset) for s in chosen]
        day += DAY
    return merge_windows(raw)


def clip_windows(windows: Iterable[Window], bounds: Window) -> list[Window]:
    """The parts of `windows` inside `bounds` (empty parts dropped)."""
    lo, hi = bounds
    out = [(max(a, lo), min(b, hi)) for a, b in windows]
    return [(a, b) for a, b in out if a < b]


def current_instance(
    shifts: Iterable[Shift], now: datetime, offset: timedelta
) -> tuple[Shift, Window] | None:
    """The shift instance running at `now` (a night shift from yesterday 22:00 at 03:00)."""
    today = production_date(now, offset)
    for shift in shifts:
        for day in (today - DAY, today, today + DAY):
            start, end = shift_instance(shift, day, offset)
            if start <= now < end:
                return shift, (start, end)
    return None
