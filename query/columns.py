"""The master DataFrame's column vocabulary and what each column needs from a detections table.

Widgets declare master columns; the query builder reads only the source columns those need
(projection push-down). Source columns are the detection table's own columns plus `line_id`,
which the builder adds as a literal per line table.
"""

from __future__ import annotations

from types import MappingProxyType

from core.errors import InvalidDefinition

SOURCE_COLUMNS: tuple[str, ...] = ("ts", "line_id", "product_id", "weight_g", "status")
"""Every column the builder can select, in the order it selects them."""

_NEEDS: dict[str, frozenset[str]] = {
    "ts": frozenset({"ts"}),
    "line_id": frozenset({"line_id"}),
    "line_code": frozenset({"line_id"}),
    "line_name": frozenset({"line_id"}),
    "area_id": frozenset({"line_id"}),
    "area_code": frozenset({"line_id"}),
    "area_name": frozenset({"line_id"}),
    "product_id": frozenset({"product_id"}),
    "product_code": frozenset({"product_id"}),
    "product_name": frozenset({"product_id"}),
    "nominal_weight_g": frozenset({"product_id"}),
    "weight_g": frozenset({"weight_g"}),
    "status": frozenset({"status"}),
    "is_reject": frozenset({"status"}),
    "shift_id": frozenset({"ts"}),
    "shift_code": frozenset({"ts"}),
    "shift_name": frozenset({"ts"}),
    "shift_date": frozenset({"ts"}),
    "hour_start": frozenset({"ts"}),
    "production_day": frozenset({"ts"}),
}

MASTER_COLUMNS: MappingProxyType[str, frozenset[str]] = MappingProxyType(_NEEDS)
"""Master column → the source columns it is derived from."""


def check_columns(required: set[str] | frozenset[str]) -> frozenset[str]:
    """The requested master columns, or InvalidDefinition naming every unknown one."""
    unknown = sorted(set(required) - set(MASTER_COLUMNS))
    if unknown:
        raise InvalidDefinition(f"unknown master column(s): {', '.join(unknown)}")
    return frozenset(required)


def source_columns_for(required: set[str] | frozenset[str]) -> set[str]:
    """The source columns needed to produce `required` (unknown column → InvalidDefinition)."""
    out: set[str] = set()
    for name in check_columns(required):
        out |= MASTER_COLUMNS[name]
    return out


def ordered_sources(sources: set[str] | frozenset[str]) -> tuple[str, ...]:
    """Source columns in the builder's canonical order."""
    return tuple(c for c in SOURCE_COLUMNS if c in sources)
