"""Request bodies of the plant admin API: the YAML loader's models, with strict JSON types.

Same fields, rules and messages as `manage.py load-metadata` (the loader's classes, subclassed);
only the types are strict at this edge, so `"5"` is not a number, `1` not a boolean and `0` not a
date — what the OpenAPI document says is exactly what is accepted.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field

from app_fastapi.deps import IsoDay
from ingest.plant_metadata import AreaIn, ClosedDayIn, LineIn, ProductIn, ShiftIn, StopReasonIn, TargetIn

STRICT = ConfigDict(strict=True, extra="forbid", str_strip_whitespace=True)


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
    date: Annotated[IsoDay, Field(strict=False)]  # ISO text, parsed (strict alone wants a date object)


class TargetBody(TargetIn):
    model_config = STRICT


class StopReasonBody(StopReasonIn):
    model_config = STRICT
