"""Which detection timestamps a tenant accepts: its plausibility window.

A detection is plausible when its plant-local time lies in [history start, now + tolerance]:

- the **history start** is the tenant's `history_start` plant setting (a date, from 00:00 plant
  time; plant YAML top level or the admin plant page), else now − `CAMET_PLAUSIBLE_PAST_DAYS`
  (730 by default), on the injected clock;
- the **tolerance** `CAMET_PLAUSIBLE_FUTURE_S` (300 s by default) covers a gateway whose clock
  runs a little ahead; it is never lifted.

Every write path refuses rows outside the window (ingest/csv_import.validate_rows), so one row
from 1999 or 2030 can no longer make partitions, rollups and the gap analysis walk decades. An
admin imports older history explicitly (`--allow-history-from`, the upload form's field): the
window then opens from that date, and the tenant's history start moves back to the earliest
row imported (`extended_history_start`). The gap analysis reads only detections inside
[history start, now]: before it lies no planned history, after now nothing has happened yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from core.clock import Clock, plant_now
from core.metadata_cache import TenantMeta
from core.settings import Settings
from core.timeutil import day_start

DEFAULT_PAST_DAYS = 730
DEFAULT_FUTURE_S = 300


@dataclass(frozen=True)
class TsWindow:
    """[lo, hi] in naive plant-local time, both ends accepted."""

    lo: datetime
    hi: datetime

    def text(self) -> str:
        """'2024-11-18 15:30:00 – 2026-11-18 15:35:00' (the same in Spanish and English)."""
        return f"{self.lo:%Y-%m-%d %H:%M:%S} – {self.hi:%Y-%m-%d %H:%M:%S}"


@dataclass(frozen=True)
class Plausibility:
    """The installation's bounds (settings); the tenant's history start comes from its metadata."""

    past_days: int = DEFAULT_PAST_DAYS
    future_s: int = DEFAULT_FUTURE_S

    @classmethod
    def of(cls, settings: Settings) -> Plausibility:
        """The bounds `CAMET_PLAUSIBLE_PAST_DAYS` and `CAMET_PLAUSIBLE_FUTURE_S` set."""
        return cls(settings.plausible_past_days, settings.plausible_future_s)

    def history_start(self, meta: TenantMeta, now: datetime) -> datetime:
        """The tenant's configured start of history, else `past_days` before `now`."""
        if meta.history_start is not None:
            return day_start(meta.history_start)
        return now - timedelta(days=self.past_days)

    def window(self, meta: TenantMeta, clock: Clock, *, history_from: date | None = None) -> TsWindow:
        """The timestamps a write may carry now; `history_from` (an admin's explicit import of
        older history) opens it earlier, never later, and never past the future tolerance."""
        now = plant_now(clock, meta.timezone)
        lo = self.history_start(meta, now)
        if history_from is not None:
            lo = min(lo, day_start(history_from))
        return TsWindow(lo, now + timedelta(seconds=self.future_s))


def extended_history_start(meta: TenantMeta, clock: Clock, plausibility: Plausibility,
                           earliest_ts: datetime) -> date | None:
    """The history start to store once rows from `earliest_ts` were imported with the explicit
    option: their date when they lie before the current start, else None (nothing to change)."""
    current = plausibility.history_start(meta, plant_now(clock, meta.timezone))
    return earliest_ts.date() if earliest_ts < current else None
