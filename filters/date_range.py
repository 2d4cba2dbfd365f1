"""Date range: presets computed in the tenant's timezone, or a custom range of days.

Accepted raw shapes: a preset name ("hoy"), or {"preset": ..., "start": ..., "end": ...}.
Custom bounds are "YYYY-MM-DD" or "DD/MM/YYYY" production days (the end day is included; days
start at the plant's production day start, so [D1, D2] is [D1 06:00, D2 + 1 day 06:00) when
days start at 06:00) or ISO datetimes (exact, end excluded; with an offset they are converted to
plant time). The typed value is a DateRange [start, end) of naive plant-local datetimes, like
the stored detections.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Any, Literal

from pydantic import Field, model_validator

from core.clock import plant_now
from core.errors import NoCurrentShift, ValidationFailed
from core.timeutil import day_start, zone
from filters.base import BaseFilter, FilterConfig, ValidationContext, filter_registry
from filters.date_presets import CUSTOM, DAY, PRESET_LABELS, preset_range
from query.spec import SqlFragment

Preset = Literal["hoy", "ayer", "turno_actual", "ultimos_7_dias", "este_mes", "mes_anterior", "personalizado"]
MIN_YEAR, MAX_YEAR = 1970, 2999
_DMY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class DateRange:
    """[start, end) in plant-local naive time, and the preset that produced it."""

    start: datetime
    end: datetime
    preset: str


class DateRangeConfig(FilterConfig):
    default_preset: Preset = "ultimos_7_dias"
    max_days: int = Field(default=366, ge=1, le=3660)
    presets: tuple[Preset, ...] = tuple(PRESET_LABELS)

    @model_validator(mode="after")
    def _default_offered(self) -> DateRangeConfig:
        if not self.presets:
            raise ValueError("presets must not be empty")
        if self.default_preset not in self.presets or self.default_preset == CUSTOM:
            raise ValueError("default_preset must be one of presets and not 'personalizado'")
        return self


@filter_registry.register
class DateRangeFilter(BaseFilter):
    """Fecha: gives the query its time window (also used for partition routing)."""

    kind = "date_range"
    dimension = "day"
    form = MappingProxyType({"type": "date_range", "custom": CUSTOM})
    config_model = DateRangeConfig
    sample_configs = ({}, {"default_preset": "hoy", "max_days": 31})
    sets_time_window = True

    def now(self) -> datetime:
        """The plant's current local time (naive), from the injected clock."""
        return plant_now(self.clock, self.meta.timezone)

    def options(self) -> list[dict]:
        return [{"value": p, "label": PRESET_LABELS[p]} for p in self.config.presets]

    def default(self) -> DateRange:
        try:
            return self._preset(self.config.default_preset)
        except ValidationFailed:  # turno_actual between shifts: fall back to today
            return self._preset("hoy")

    def validate(self, raw: Any, context: ValidationContext | None = None) -> DateRange:
        if raw is None:
            return self.default()
        if isinstance(raw, str):
            raw = {"preset": raw.strip()}
        if not isinstance(raw, dict) or set(raw) - {"preset", "start", "end"}:
            raise self.fail("se esperaba un período o un objeto {preset, start, end}")
        preset = raw.get("preset")
        if preset is None and ("start" in raw or "end" in raw):
            preset = CUSTOM
        if not isinstance(preset, str) or preset not in self.config.presets:
            raise self.fail("período desconocido")
        if preset != CUSTOM:
            if raw.get("start") is not None or raw.get("end") is not None:
                raise self.fail("las fechas solo se indican con el período «Personalizado»")
            return self._checked(self._preset(preset))
        start = self._bound(raw.get("start"), "inicio", is_end=False)
        end = self._bound(raw.get("end"), "fin", is_end=True)
        if end < start:
            raise self.fail("la fecha de fin es anterior a la fecha de inicio")
        if end == start:
            raise self.fail("el rango de fechas está vacío")
        return self._checked(DateRange(start, end, CUSTOM))

    def _preset(self, preset: str) -> DateRange:
        try:
            start, end = preset_range(preset, self.now(), self.meta.shifts.values(), self.meta.day_offset)
        except NoCurrentShift:
            raise self.fail("no hay ningún turno en curso") from None
        return DateRange(start, end, preset)

    def _checked(self, value: DateRange) -> DateRange:
        if value.end - value.start > timedelta(days=self.config.max_days):
            raise self.fail(f"el rango no puede superar {self.config.max_days} días")
        return value

    def _bound(self, raw: Any, which: str, *, is_end: bool) -> datetime:
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            raise self.fail(f"falta la fecha de {which}")
        if not isinstance(raw, str) or len(raw) > 40:
            raise self.fail(f"la fecha de {which} no es válida")
        text = raw.strip()
        try:
            if _ISO_DAY.fullmatch(text) or _DMY.fullmatch(text):
                day = _parse_day(text)
                if not MIN_YEAR <= day.year <= MAX_YEAR:
                    raise ValueError
                return day_start(day) + self.meta.day_offset + (DAY if is_end else timedelta(0))
            moment = datetime.fromisoformat(text)
            if not MIN_YEAR <= moment.year <= MAX_YEAR:
                raise ValueError
            if moment.tzinfo is not None:
                moment = moment.astimezone(zone(self.meta.timezone)).replace(tzinfo=None)
        except (ValueError, OverflowError):
            raise self.fail(f"la fecha de {which} no es válida") from None
        return moment

    def to_sql(self, value: DateRange) -> SqlFragment:
        # The window alone: the query builder turns it into `ts >= start AND ts < end`, or
        # into the shift filter's ranges inside it.
        return SqlFragment(time_range=(value.start, value.end))

    def to_json(self, value: DateRange) -> dict[str, str]:
        return {"preset": value.preset, "start": value.start.isoformat(), "end": value.end.isoformat()}

    def describe_extra(self) -> dict[str, Any]:
        return {
            "max_days": self.config.max_days,
            "default_preset": self.config.default_preset,
            "production_day_start": self.meta.day_start.strftime("%H:%M"),
        }


def _parse_day(text: str) -> date:
    match = _DMY.fullmatch(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
        return date(year, month, day)
    return date.fromisoformat(text)
