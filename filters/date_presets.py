"""Named date ranges ("hoy", "este mes", ...) as [start, end) in plant-local naive time.

Day-based presets end at the next local midnight (the data holds nothing later), so "hoy" is
[today 00:00, tomorrow 00:00). "turno_actual" is the shift running now; a night shift that
started yesterday at 22:00 is still the current shift at 03:00.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from core.errors import CametError, ValidationFailed
from core.metadata_cache import Shift
from core.timeutil import day_start, month_start, previous_month_start

PRESET_LABELS: dict[str, str] = {
    "hoy": "Hoy",
    "ayer": "Ayer",
    "turno_actual": "Turno actual",
    "ultimos_7_dias": "Últimos 7 días",
    "este_mes": "Este mes",
    "mes_anterior": "Mes anterior",
    "personalizado": "Personalizado",
}
CUSTOM = "personalizado"
DAY = timedelta(days=1)


class NoCurrentShift(CametError, LookupError):
    """No shift covers the current time of day."""

    status_code = 422
    code = "no_current_shift"

    def __init__(self, message: str = "ningún turno cubre la hora actual") -> None:
        super().__init__(message)


def current_shift_range(now: datetime, shifts: Iterable[Shift]) -> tuple[datetime, datetime]:
    """The [start, end) of the shift running at `now`."""
    minute = now.hour * 60 + now.minute
    today = day_start(now.date())
    for shift in shifts:
        if not shift.contains_minute(minute):
            continue
        start_day = today
        if shift.crosses_midnight and minute < shift.end_minute:
            start_day = today - DAY
        start = start_day + timedelta(minutes=shift.start_minute)
        end_day = start_day + DAY if shift.crosses_midnight else start_day
        return start, end_day + timedelta(minutes=shift.end_minute)
    raise NoCurrentShift


def preset_range(preset: str, now: datetime, shifts: Iterable[Shift]) -> tuple[datetime, datetime]:
    """The [start, end) of a named preset (not "personalizado") at local time `now`."""
    today = day_start(now.date())
    tomorrow = today + DAY
    if preset == "hoy":
        return today, tomorrow
    if preset == "ayer":
        return today - DAY, today
    if preset == "ultimos_7_dias":
        return today - 6 * DAY, tomorrow
    if preset == "este_mes":
        return day_start(month_start(now.date())), tomorrow
    if preset == "mes_anterior":
        return day_start(previous_month_start(now.date())), day_start(month_start(now.date()))
    if preset == "turno_actual":
        return current_shift_range(now, shifts)
    raise ValidationFailed(f"período desconocido «{preset[:32]}»")

