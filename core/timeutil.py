"""Plant-local time: detections store naive local datetimes, so "now" and day boundaries are
computed in the tenant's IANA timezone and then made naive, never in the server's zone."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """The ZoneInfo of a tenant timezone (validated when the tenant was created)."""
    return ZoneInfo(name)


def with_plant_offset(moment: datetime | None, timezone: str) -> datetime | None:
    """A naive plant-local time with the plant's offset attached (None stays None): what the
    JSON API shows, so every timestamp it sends is a full ISO date-time."""
    return moment.replace(tzinfo=zone(timezone)) if moment is not None else None


def day_start(day: date) -> datetime:
    """Local midnight opening `day`."""
    return datetime(day.year, day.month, day.day)


def month_start(day: date) -> date:
    return day.replace(day=1)


def previous_month_start(day: date) -> date:
    """The first day of the month before `day`'s month."""
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)
