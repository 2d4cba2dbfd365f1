"""A request resolved once: (principal, raw filter values, layout) → one immutable ResolvedRun.

Every later stage takes the ResolvedRun: the admission's cache key, the orchestrator, stops,
the shift report and the exports. None of them loads the filter set again or re-validates, so
a value the key was built from is the value the run reads with. Resolution reads the tenant's
configuration in one connection and raises before any data is read: ValidationFailed (422,
every bad field listed), NotFound (an unknown layout).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any, Protocol

from sqlalchemy import select

from core import schema_tenant as t
from core.clock import plant_now
from core.errors import NotFound, ValidationFailed
from core.metadata_cache import TenantMeta
from core.runtime import Runtime
from engine.plant_source import selection_of
from filters.filter_set import FilterSet, load_filter_set
from query.builder import time_ranges, time_window
from query.shift_report import Selection
from query.spec import Predicate, SqlFragment
from widgets.layout import Placement, resolve_layout

NO_DATE_MESSAGE = "Falta el filtro de fecha"


class Caller(Protocol):
    """Who runs the dashboard, as the engine needs it (identity's verified Principal is one)."""

    @property
    def tenant(self) -> str: ...

    @property
    def role(self) -> str: ...

    @property
    def is_admin(self) -> bool: ...


@dataclass(frozen=True)
class DashboardConfig:
    """What one tenant's dashboard is made of, read in one connection."""

    filter_set: FilterSet
    placements: tuple[Placement, ...]
    errors: tuple[str, ...]
    layout_id: int | None
    timezone: str
    day_start: timedelta = timedelta(0)  # when a production day starts (its first shift)


@dataclass(frozen=True)
class QuerySpec:
    """The validated filters' fragments combined once: what every reader of this run selects."""

    fragments: tuple[SqlFragment, ...]
    window: tuple[datetime, datetime] | None  # intersection of the time windows; None: unbounded
    line_ids: frozenset[int] | None  # intersection of the line sets; None: every line
    ranges: tuple[tuple[datetime, datetime], ...] | None  # shift-instance `ts` ranges in the window
    predicates: tuple[Predicate, ...] = field(default=())

    @classmethod
    def combine(cls, fragments: Sequence[SqlFragment]) -> QuerySpec:
        """AND the fragments: their windows, line sets and ranges intersect, predicates add up."""
        window = time_window(fragments)
        ranges = time_ranges(fragments, window)
        line_ids: frozenset[int] | None = None
        for fragment in fragments:
            if fragment.line_ids is not None:
                ids = frozenset(int(i) for i in fragment.line_ids)
                line_ids = ids if line_ids is None else line_ids & ids
        return cls(tuple(fragments), window, line_ids, tuple(ranges) if ranges is not None else None,
                   tuple(f.predicate for f in fragments if f.predicate is not None))


@dataclass(frozen=True)
class ResolvedRun:
    """One request, resolved: who asks, the configuration, the validated values and what they select."""

    principal: Caller
    meta: TenantMeta
    config: DashboardConfig
    values: Mapping[str, Any]
    applied: Mapping[str, Any]  # the values as JSON, keyed by param (what the answer reports)
    spec: QuerySpec
    selection: Selection | None  # the shift instances the filters choose; None without a date window
    now: datetime  # plant-local time of the resolution
    took_s: float = 0.0  # seconds spent resolving (the run reports it as its "filters" stage)

    @property
    def tenant(self) -> str:
        return self.principal.tenant

    @property
    def filter_set(self) -> FilterSet:
        return self.config.filter_set

    def applied_json(self) -> dict[str, Any]:
        """The applied values as a plain dict (for answers and cache keys)."""
        return dict(self.applied)

    def require_selection(self) -> Selection:
        """The plant selection; plant answers need a period, so no date window is a 422."""
        if self.selection is None:
            details = [{"field": "filters", "message": NO_DATE_MESSAGE}]
            raise ValidationFailed(NO_DATE_MESSAGE, details=details)
        return self.selection


def load_config(rt: Runtime, slug: str, layout_id: int | None, *, widgets: bool = True,
                meta: TenantMeta | None = None) -> DashboardConfig:
    """Filter set, widget rows and the chosen (or default) layout of one tenant.

    `widgets=False` reads the filter set alone (stops and the shift report place no widgets).
    """
    meta = meta if meta is not None else rt.meta.get(slug)
    placements: tuple[Placement, ...] = ()
    layout_errors: list[str] = []
    chosen: int | None = None
    with rt.db.tenant(slug) as conn:
        filter_set = load_filter_set(conn, meta, rt.clock)
        if widgets:
            rows = [dict(r._mapping) for r in conn.execute(select(t.widget_catalog))]
            query = select(t.dashboard_layouts)
            if layout_id is not None:
                layout = conn.execute(query.where(t.dashboard_layouts.c.id == layout_id)).first()
                if layout is None:
                    raise NotFound(f"unknown layout {layout_id}")
            else:
                layout = conn.execute(
                    query.order_by(t.dashboard_layouts.c.is_default.desc(), t.dashboard_layouts.c.id)
                ).first()
            placed, layout_errors = resolve_layout(layout.items if layout is not None else None, rows)
            placements = tuple(placed)
            chosen = layout.id if layout is not None else None
    errors = [f"{e.class_name} '{e.param}': {e.message}" for e in filter_set.errors] + layout_errors
    return DashboardConfig(filter_set, placements, tuple(errors), chosen, meta.timezone, meta.day_offset)


def resolve_run(rt: Runtime, principal: Caller, raw_filters: Mapping[str, Any] | None,
                layout_id: int | None = None, *, widgets: bool = True) -> ResolvedRun:
    """Load the caller's configuration, validate the raw values and combine what they select."""
    started = time.perf_counter()
    meta = rt.meta.get(principal.tenant)
    config = load_config(rt, principal.tenant, layout_id, widgets=widgets, meta=meta)
    values = config.filter_set.validate(raw_filters)
    fragments = config.filter_set.fragments(values)
    spec = QuerySpec.combine(fragments)
    selection = selection_of(meta, config.filter_set, values, fragments, spec.window)
    return ResolvedRun(
        principal=principal, meta=meta, config=config, values=MappingProxyType(dict(values)),
        applied=MappingProxyType(config.filter_set.applied(values)), spec=spec, selection=selection,
        now=plant_now(rt.clock, config.timezone), took_s=time.perf_counter() - started,
    )
