"""Named date ranges ("hoy", "este mes", ...) as [start, end) in plant-local naive time.

Day-based presets select *production* days, which start at the plant's day start (its first
shift, e.g. 06:00): at 03:00 "hoy" is still the day that began yesterday at 06:00, and "hoy" is
[day 06:00, next day 06:00). "turno_actual" is the shift instance running now; a night shift
that started yesterday at 22:00 is still the current shift at 03:00.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from core.errors import NoCurrentShift, ValidationFailed
from core.metadata_cache import Shift
from core.production_days import DAY, current_instance, days_window, production_date
from core.timeutil import month_start, previous_month_start

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
__all__ = ["CUSTOM", "DAY", "PRESET_LABELS", "current_shift_range", "preset_range"]


def current_shift_range(
    now: datetime, shifts: Iterable[Shift], offset: timedelta = timedelta(0)
) -> tuple[datetime, datetime]:
    """The [start, end) of the shift instance running at `now`."""
    found = current_instance(shifts, now, offset)
    if found is None:
        raise NoCurrentShift
    return found[1]


def preset_range(
    preset: str, now: datetime, shifts: Iterable[Shift], offset: timedelta = timedelta(0)
) -> tuple[datetime, datetime]:
    """The [start, end) of a named preset (not "personalizado") at local time `now`.

    `offset` is the production day start (distance from midnight).
    """
    today = production_date(now, offset)
    if preset == "hoy":
        return days_window(today, today, offset)
    if preset == "ayer":
        return days_window(today - DAY, today - DAY, offset)
    if preset == "ultimos_7_dias":
        return days_window(today - 6 * DAY, today, offset)
    if preset == "este_mes":
        return days_window(month_start(today), today, offset)
    if preset == "mes_anterior":
        return days_window(previous_month_start(today), month_start(today) - DAY, offset)
    if preset == "turno_actual":
        return current_shift_range(now, shifts, offset)
    raise ValidationFailed(f"período desconocido «{preset[:32]}»")

