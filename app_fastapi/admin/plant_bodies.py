"""Request bodies of the plant admin API: the YAML loader's models, with strict JSON types.

Same fields, rules and messages as `manage.py load-metadata` (the loader's classes, subclassed);
only the types are strict at this edge, so `"5"` is not a number, `1` not a boolean and `0` not a
date — what the OpenAPI document says is exactly what is accepted. (JSON Schema counts `30.0` as an
integer, so integer fields take it as 30; `30.5` stays a 422.)
"""

from __future__ import annotations

from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app_fastapi.deps import IsoDay
from ingest.plant_metadata import AreaIn, ClosedDayIn, LineIn, ProductIn, ShiftIn, StopReasonIn, TargetIn

STRICT = ConfigDict(strict=True, extra="forbid", str_strip_whitespace=True)


def _takes_int(annotation: Any) -> bool:  # noqa: ANN401 - a type annotation
    """Whether a field's type is int, or a union or list that holds int."""
    if annotation is int:
        return True
    if get_origin(annotation) in (Union, UnionType, list):
        return any(_takes_int(a) for a in get_args(annotation))
    return False


def _integral(value: Any) -> Any:  # noqa: ANN401 - JSON
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_integral(v) for v in value]
    return value


class _StrictBody(BaseModel):
    """Strict JSON types, where an integral number (`30.0`) counts as the integer it is."""

    model_config = STRICT

    @model_validator(mode="before")
    @classmethod
    def _integral_numbers(cls, data: Any) -> Any:  # noqa: ANN401 - the raw JSON body
        if not isinstance(data, dict):
            return data
        ints = {name for name, f in cls.model_fields.items() if _takes_int(f.annotation)}
        return {k: _integral(v) if k in ints else v for k, v in data.items()}


class AreaBody(_StrictBody, AreaIn):
    pass


class LineBody(_StrictBody, LineIn):
    pass


class ProductBody(_StrictBody, ProductIn):
    pass


class ShiftBody(_StrictBody, ShiftIn):
    pass


class ClosedDayBody(_StrictBody, ClosedDayIn):
    date: Annotated[IsoDay, Field(strict=False)]  # ISO text, parsed (strict alone wants a date object)


class TargetBody(_StrictBody, TargetIn):
    pass


class StopReasonBody(_StrictBody, StopReasonIn):
    pass
