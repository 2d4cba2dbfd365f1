"""Request bodies of the plant admin API: the YAML loader's models, with strict JSON types.

Same fields, rules and messages as `manage.py load-metadata` (the loader's classes, subclassed);
only the types are strict at this edge, so `"5"` is not a number, `1` not a boolean and `0` not a
date — what the OpenAPI document says is exactly what is accepted.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from pydantic import BeforeValidator, ConfigDict, Field

from ingest.plant_metadata import AreaIn, ClosedDayIn, LineIn, ProductIn, ShiftIn

STRICT = ConfigDict(strict=True, extra="forbid", str_strip_whitespace=True)
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_day(value: object) -> object:
    if not isinstance(value, str) or not ISO_DAY.fullmatch(value):
        raise ValueError("se esperaba una fecha AAAA-MM-DD")
    return value


class AreaBody(AreaIn):
    model_config = STRICT


class LineBody(LineIn):
    model_config = STRICT


class ProductBody(ProductIn):
    model_config = STRICT


class ShiftBody(ShiftIn):
    model_config = STRICT


class ClosedDayBody(ClosedDayIn):
    model_config = STRICT
    date: Annotated[date, Field(strict=False), BeforeValidator(_iso_day)]
