"""The one injectable clock for plant time: presets, partitions, jobs, demo data and tests.

Production uses `SystemClock`. Tests inject a `ManualClock` (frozen, advanced by hand), and a
process started with `CAMET_CLOCK_START` runs on an `OffsetClock` that starts at that instant and
ticks at real speed, so subprocess tests and demos can live on a chosen date. Security timers
(JWT expiry, session timeouts, rate limits) deliberately stay on the real clock.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from core.timeutil import zone


class Clock(Protocol):
    """Anything that tells the current instant as an aware UTC datetime."""

    def now_utc(self) -> datetime: ...


class SystemClock:
    """The real clock."""

    def now_utc(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A frozen clock that tests move by hand (thread-safe)."""

    def __init__(self, moment: datetime) -> None:
        self._lock = threading.Lock()
        self._now = _aware(moment)

    def now_utc(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, moment: datetime) -> None:
        """Jump to `moment` (naive values are taken as UTC)."""
        with self._lock:
            self._now = _aware(moment)

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._now += delta


class OffsetClock:
    """Starts at `start` and ticks at real speed from the moment it is built."""

    def __init__(self, start: datetime) -> None:
        self._start = _aware(start)
        self._t0 = time.monotonic()

    def now_utc(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._t0)


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_instant(text: str, timezone: str = "UTC") -> datetime:
    """An ISO instant; without an offset it is read in `timezone`."""
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone(timezone))
    return moment.astimezone(UTC)


def plant_now(clock: Clock, timezone: str) -> datetime:
    """The plant's current local time, naive, like the stored detections."""
    return clock.now_utc().astimezone(zone(timezone)).replace(tzinfo=None)


def plant_today(clock: Clock, timezone: str) -> date:
    """The plant's current calendar date."""
    return plant_now(clock, timezone).date()


SYSTEM_CLOCK = SystemClock()
