"""Would a `Filters` row load? The admin API's checks and preview, built as the dashboard builds.

A row is judged next to the tenant's other active rows (a products filter needs its lines
filter): a row that would not load is a ValidationFailed with the reason the dashboard would give;
a duplicate parameter, or a change another active row cannot live with, is a Conflict.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.clock import Clock
from core.errors import Conflict, ValidationFailed
from core.metadata_cache import TenantMeta
from filters import BaseFilter, build_filter_set, filter_registry
from filters.filter_set import PARAM_RE

Row = dict[str, Any]
PARAM_PATTERN = f"^{PARAM_RE.pattern}$"
"""What a filter's request parameter must match."""


def _refuse(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, details=[{"field": field, "message": message}])


def _clash(field: str, message: str) -> Conflict:
    return Conflict(message, details=[{"field": field, "message": message}])


def filter_class_names() -> list[str]:
    """The registered names a `Filters` row may use as its class."""
    return [n for n in filter_registry.names() if issubclass(filter_registry.get(n), BaseFilter)]


def check_filter_change(rows: Sequence[Row], candidate: Row | None, replaced: int | None,
                        meta: TenantMeta, clock: Clock) -> None:
    """Refuse a candidate row (None: `replaced` is deleted) that would not load, or that clashes
    with the tenant's current `rows`: a duplicate parameter or another active row it breaks."""
    others = [r for r in rows if r["id"] != replaced and r["active"]]
    if candidate is not None:
        name = candidate["class_name"]
        if name not in filter_registry or not issubclass(filter_registry.get(name), BaseFilter):
            raise _refuse("class_name", f"la clase de filtro «{name[:64]}» no está registrada")
        if not PARAM_RE.fullmatch(candidate["param_name"]):
            raise _refuse("param_name", "el parámetro debe ser minúsculas, dígitos y _ (máx. 64)")
        if any(r["param_name"] == candidate["param_name"] and r["id"] != replaced for r in rows):
            raise _clash("param_name", f"ya existe un filtro con el parámetro «{candidate['param_name']}»")
        built = build_filter_set([*others, dict(candidate, active=True)], meta, clock)
        own = [e.message for e in built.errors if e.row_id == candidate["id"]]
        if own:
            raise _refuse("config", own[0])
    broken_before = {e.row_id for e in build_filter_set([r for r in rows if r["active"]], meta, clock).errors}
    after = [*others, *([candidate] if candidate is not None and candidate["active"] else [])]
    broken = [e for e in build_filter_set(after, meta, clock).errors
              if e.row_id not in broken_before and (candidate is None or e.row_id != candidate["id"])]
    if broken:
        raise _clash("active", f"el cambio deja sin funcionar al filtro «{broken[0].param}»: "
                               f"{broken[0].message}")


def filter_row_problems(rows: Sequence[Row], meta: TenantMeta, clock: Clock) -> dict[int, str]:
    """Why the dashboard skips each active row that it skips, by row id."""
    built = build_filter_set([r for r in rows if r["active"]], meta, clock)
    return {e.row_id: e.message for e in built.errors}


def preview_filter(rows: Sequence[Row], candidate: Row, meta: TenantMeta, clock: Clock) -> dict[str, Any]:
    """The candidate's front-end definition next to the other active rows (those of another
    parameter), or ValidationFailed on `config` with the reason it would not load."""
    others = [r for r in rows if r["active"] and r["id"] != candidate["id"]
              and r["param_name"] != candidate["param_name"]]
    built = build_filter_set([*others, candidate], meta, clock)
    problem = next((e.message for e in built.errors if e.row_id == candidate["id"]), None)
    if problem is not None:
        raise _refuse("config", problem)
    return next(f for f in built.filters if f.param == candidate["param_name"]).describe()
