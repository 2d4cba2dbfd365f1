"""The filter set: active `Filters` rows → one FilterSet per request.

Each row names a registered class, a parameter, a label and a JSON config. A row with an
unknown class, a malformed parameter name, config that is not JSON or that its class rejects,
or a dependency on a missing filter is skipped and reported as a FilterRowError (shown to
admins); every other row still works. No dotted path from the database is ever imported.

Validation order: filters that others depend on (lines, areas) are validated first and their
line scopes handed to the dependents (products), so a product not made on the selected lines is
rejected. All bad fields are reported together in one ValidationFailed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Text, select, type_coerce
from sqlalchemy.engine import Connection

from core.clock import SYSTEM_CLOCK, Clock
from core.errors import CametError, InvalidDefinition, NotFound, ValidationFailed
from core.metadata_cache import TenantMeta
from core.schema_tenant import filters_table
from filters.base import BaseFilter, ValidationContext, filter_registry
from query.spec import PlantScope, SqlFragment

PARAM_RE = re.compile(r"[a-z][a-z0-9_]{0,63}")


@dataclass(frozen=True)
class FilterRowError:
    """Why one `Filters` row was skipped (admin-visible)."""

    row_id: int | None
    class_name: str
    param: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _is_empty(fragment: SqlFragment) -> bool:
    return fragment.predicate is None and fragment.line_ids is None and fragment.time_range is None


@dataclass
class FilterSet:
    """The tenant's working filters, in display order, plus the rows that were skipped."""

    filters: list[BaseFilter] = field(default_factory=list)
    errors: list[FilterRowError] = field(default_factory=list)

    def get(self, param: str) -> BaseFilter:
        """The filter of one parameter (NotFound when absent)."""
        for f in self.filters:
            if f.param == param:
                return f
        raise NotFound(f"filtro desconocido «{param[:64]}»")

    def describe(self) -> list[dict]:
        """Every filter's front-end definition, in display order."""
        return [f.describe() for f in self.filters]

    def validate(self, raw: Mapping[str, Any] | None) -> dict[str, Any]:
        """Raw request values → typed values; missing params take their default.

        Keys that name no filter are ignored (forms carry other fields too).
        """
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            message = "Los filtros deben enviarse como un objeto JSON"
            raise ValidationFailed(message, details=[{"field": "filters", "message": message}])
        values: dict[str, Any] = {}
        scopes: dict[str, frozenset[int] | None] = {}
        details: list[dict] = []
        # Time-window filters first (the shift filter reads the selected production days),
        # then the others, then those that depend on line scopes.
        for f in sorted(self.filters, key=lambda f: (bool(f.depends_on()), not f.sets_time_window)):
            try:
                value = f.validate(raw.get(f.param), ValidationContext(values, scopes))
            except ValidationFailed as exc:
                details.extend(exc.details or [{"field": f.param, "message": exc.message}])
                continue
            values[f.param] = value
            if f.scopes_lines:
                scopes[f.param] = f.to_sql(value).line_ids
        if details:
            order = {f.param: i for i, f in enumerate(self.filters)}
            details.sort(key=lambda d: order.get(d.get("field"), len(order)))
            raise ValidationFailed("Hay filtros con valores no válidos", details=details)
        return {f.param: values[f.param] for f in self.filters}

    def fragments(self, values: Mapping[str, Any]) -> list[SqlFragment]:
        """The non-empty query fragments of validated values ("todos" contributes nothing)."""
        out = [f.to_sql(values[f.param]) for f in self.filters if f.param in values]
        return [frag for frag in out if not _is_empty(frag)]

    def plant_scope(self, values: Mapping[str, Any]) -> PlantScope:
        """How the validated values narrow plant data: every filter's `to_plant()`, combined."""
        scope = PlantScope()
        for f in self.filters:
            if f.param in values:
                scope &= f.to_plant(values[f.param])
        return scope

    def applied(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Validated values as JSON, keyed by param (what the dashboard shows as applied)."""
        return {f.param: f.to_json(values[f.param]) for f in self.filters if f.param in values}


def _parse_config(raw: Any) -> dict:
    value = raw
    for _ in range(2):  # a JSON string holding JSON (double-encoded by hand) is read once more
        if not isinstance(value, str | bytes):
            break
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            raise InvalidDefinition("la configuración no es JSON válido") from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidDefinition("la configuración debe ser un objeto JSON")
    return value


def _build_one(row: Mapping[str, Any], meta: TenantMeta, clock: Clock) -> BaseFilter:
    class_name, param = str(row.get("class_name") or ""), str(row.get("param_name") or "")
    if class_name not in filter_registry:
        raise InvalidDefinition(f"clase de filtro desconocida «{class_name[:64]}»")
    cls = filter_registry.get(class_name)
    if not (isinstance(cls, type) and issubclass(cls, BaseFilter)):
        raise InvalidDefinition(f"«{class_name}» no es una clase de filtro")
    if not PARAM_RE.fullmatch(param):
        raise InvalidDefinition("el parámetro debe ser minúsculas, dígitos y _ (máx. 64)")
    label = str(row.get("label") or "").strip() or param
    config = _parse_config(row.get("config"))
    try:
        return cls(param=param, label=label, config=config, meta=meta, clock=clock)
    except CametError as exc:
        raise InvalidDefinition(exc.message) from None
    except Exception as exc:  # a third-party class must not take the other filters down
        raise InvalidDefinition(f"error al crear el filtro ({type(exc).__name__})") from None


def build_filter_set(
    rows: Iterable[Mapping[str, Any]], meta: TenantMeta, clock: Clock = SYSTEM_CLOCK
) -> FilterSet:
    """Instantiate the given rows (already in display order) for one tenant snapshot."""
    built: list[tuple[Mapping[str, Any], BaseFilter]] = []
    errors: list[FilterRowError] = []

    def reject(row: Mapping[str, Any], message: str) -> None:
        errors.append(FilterRowError(
            row.get("id"), str(row.get("class_name") or "")[:64], str(row.get("param_name") or "")[:64],
            message,
        ))

    seen: set[str] = set()
    for row in rows:
        try:
            f = _build_one(row, meta, clock)
        except ValueError as exc:
            reject(row, str(exc))
            continue
        if f.param in seen:
            reject(row, f"el parámetro «{f.param}» está repetido")
            continue
        seen.add(f.param)
        built.append((row, f))
    scoping = {f.param for _, f in built if f.scopes_lines}
    working: list[BaseFilter] = []
    for row, f in built:
        missing = [p for p in f.depends_on() if p not in scoping]
        if missing:
            reject(row, f"depends_on «{', '.join(missing)}» no es un filtro de líneas o áreas activo")
            continue
        working.append(f)
    return FilterSet(working, errors)


def load_filter_set(conn: Connection, meta: TenantMeta, clock: Clock = SYSTEM_CLOCK) -> FilterSet:
    """The tenant's active `Filters` rows as a FilterSet (config read as raw text, parsed here)."""
    f = filters_table
    rows = conn.execute(
        select(
            f.c.id, f.c.class_name, f.c.param_name, f.c.label,
            type_coerce(f.c.config, Text).label("config"), f.c.sort_order,
        )
        .where(f.c.active.is_(True))
        .order_by(f.c.sort_order, f.c.id)
    ).mappings().all()
    return build_filter_set(rows, meta, clock)
