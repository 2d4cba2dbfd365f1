"""The day ranges the demo providers (exchange rates, ERP orders) accept: at most MAX_DAYS days."""

from __future__ import annotations

from datetime import date, timedelta

from core.errors import ValidationFailed

MAX_DAYS = 400


def checked_days(start: date, end: date, last: date | None = None) -> list[date]:
    """The days of [start, end] (at most MAX_DAYS, cut at `last`), or a 422 naming the bad bound."""
    if end < start:
        raise ValidationFailed("end before start",
                               details=[{"field": "end", "message": "fin antes del inicio"}])
    if (end - start).days > MAX_DAYS:
        raise ValidationFailed(f"at most {MAX_DAYS} days",
                               details=[{"field": "start", "message": f"máximo {MAX_DAYS} días"}])
    stop = min(end, last) if last is not None else end
    return [start + timedelta(days=i) for i in range((stop - start).days + 1)]
