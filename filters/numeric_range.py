"""A numeric range on one allow-listed detection column (e.g. weight in grams)."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from pydantic import model_validator
from sqlalchemy import Table, and_

from core.errors import RegistryError
from filters._parse import is_all, parse_number
from filters.base import BaseFilter, FilterConfig, ValidationContext, filter_registry
from query.spec import SqlFragment

_LOW_KEYS = ("min", "desde", "low", "from")
_HIGH_KEYS = ("max", "hasta", "high", "to")


@dataclass(frozen=True)
class NumericRange:
    """Inclusive bounds; None on a side means unbounded on that side."""

    low: float | None = None
    high: float | None = None

    @property
    def is_open(self) -> bool:
        return self.low is None and self.high is None


class NumericRangeConfig(FilterConfig):
    column: Literal["weight_g"] = "weight_g"
    unit: str = "g"
    min: float | None = None
    max: float | None = None
    step: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> NumericRangeConfig:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min must not exceed max")
        return self


@filter_registry.register
class NumericRangeFilter(BaseFilter):
    """Peso: keeps detections whose column lies within [min, max] (NULLs drop out once bounded)."""

    kind = "numeric_range"
    form = MappingProxyType({"type": "range"})
    config_model = NumericRangeConfig
    sample_configs = ({}, {"min": 0, "max": 500, "step": 0.5})

    def check_config(self) -> None:
        if self.config.step is not None and self.config.step <= 0:
            raise RegistryError("configuración no válida: step debe ser mayor que 0")

    def default(self) -> NumericRange:
        return NumericRange()

    def _split(self, raw: Any) -> tuple[Any, Any]:
        if isinstance(raw, dict):
            unknown = set(raw) - set(_LOW_KEYS) - set(_HIGH_KEYS)
            if unknown:
                raise ValueError("se esperaba un objeto con «min» y «max»")
            low = next((raw[k] for k in _LOW_KEYS if k in raw), None)
            high = next((raw[k] for k in _HIGH_KEYS if k in raw), None)
            return low, high
        if isinstance(raw, list | tuple) and len(raw) == 2:
            return raw[0], raw[1]
        raise ValueError("se esperaba un rango {min, max}")

    def validate(self, raw: Any, context: ValidationContext | None = None) -> NumericRange:
        if raw is None or is_all(raw):
            return self.default()
        try:
            low_raw, high_raw = self._split(raw)
            low, high = parse_number(low_raw), parse_number(high_raw)
        except ValueError as exc:
            raise self.fail(str(exc)) from None
        if low is not None and high is not None and low > high:
            raise self.fail("el mínimo es mayor que el máximo")
        lo_limit, hi_limit = self.config.min, self.config.max
        for value in (low, high):
            if value is None:
                continue
            if (lo_limit is not None and value < lo_limit) or (hi_limit is not None and value > hi_limit):
                limits = f"{_fmt(lo_limit, '-∞')} y {_fmt(hi_limit, '∞')}"
                raise self.fail(f"los valores deben estar entre {limits}")
        return NumericRange(low, high)

    def to_sql(self, value: NumericRange) -> SqlFragment:
        if value.is_open:
            return SqlFragment()
        name, low, high = self.config.column, value.low, value.high

        def predicate(table: Table) -> Any:
            column = table.c[name]
            parts = []
            if low is not None:
                parts.append(column >= low)
            if high is not None:
                parts.append(column <= high)
            return and_(*parts)

        return SqlFragment(predicate=predicate)

    def to_json(self, value: NumericRange) -> dict[str, float | None]:
        return {"min": value.low, "max": value.high}

    def describe_extra(self) -> dict[str, Any]:
        c = self.config
        return {"column": c.column, "unit": c.unit, "min": c.min, "max": c.max, "step": c.step}


def _fmt(value: float | None, unbounded: str) -> str:
    return unbounded if value is None else f"{value:g}"
