"""POST /api/v1/stops/search: the stops and micro-stops behind the dashboard's filters.

The filters are the dashboard's own (same `Filters` rows, same validation, 422 per bad field);
the date range, lines/areas and shifts select shift instances, the other filters do not apply
to stops. Rows come from `stops`, which the gap-analysis job keeps up to date.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from app_fastapi.deps import CurrentPrincipal, RuntimeDep
from core.clock import plant_now
from core.errors import ValidationFailed
from core.metadata_cache import TenantMeta
from core.runtime import Runtime
from engine.orchestrator import time_window
from engine.plant_source import selection_of
from filters.filter_set import load_filter_set
from query.shift_report import Selection, search_stops
from stops.reasons import attach_segments

router = APIRouter(prefix="/stops", tags=["stops"])


class FiltersRequest(BaseModel):
    """The dashboard's filter values, keyed by filter param (see GET /api/v1/filters)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "filters": {"fecha": {"preset": "personalizado", "start": "2026-11-16", "end": "2026-11-17"},
                    "lineas": [1], "turnos": "todos"},
    }]})

    filters: dict[str, Any] = Field(default_factory=dict)


class StopSegment(BaseModel):
    start: str
    end: str
    reason: str | None = Field(description="reason code; null for an unknown one")
    reason_name: str


class StopRow(BaseModel):
    id: int = Field(description="current row id for PATCH /stops/{id}; gap analysis may rewrite it")
    line: str
    line_name: str
    kind: str = Field(description="stop or micro")
    start: str = Field(description="plant-local ISO time, clipped to the shift instance")
    end: str = Field(description="plant-local ISO time; for an open stop, when it was last analysed")
    downtime_s: float = Field(description="planned time lost inside this shift instance (0 for micro)")
    production_date: str
    shift: str | None
    open: bool = Field(description="no detection since: the stop is still going on")
    segments: list[StopSegment] = Field(description="its reasons, in order; empty: no reason given")


class StopsResponse(BaseModel):
    stops: list[StopRow]
    truncated: bool = Field(description="more than 10,000 rows matched: narrow the filters")
    filters: dict[str, Any]


def resolve_selection(rt: Runtime, slug: str, raw: dict[str, Any]) -> tuple[TenantMeta, Selection,
                                                                            dict[str, Any], datetime]:
    """Validate the dashboard filters and turn them into a shift-instance selection."""
    meta = rt.meta.get(slug)
    with rt.db.tenant(slug) as conn:
        filter_set = load_filter_set(conn, meta, rt.clock)
    values = filter_set.validate(raw)
    fragments = filter_set.fragments(values)
    sel = selection_of(meta, filter_set, values, fragments, time_window(fragments))
    if sel is None:
        raise ValidationFailed("Falta el filtro de fecha", details=[{"field": "filters",
                                                                     "message": "Falta el filtro de fecha"}])
    return meta, sel, filter_set.applied(values), plant_now(rt.clock, meta.timezone)


@router.post("/search", response_model=StopsResponse,
             responses={401: {"description": "missing or invalid token"},
                        422: {"description": "invalid filter values"}})
def search(body: FiltersRequest, principal: CurrentPrincipal, rt: RuntimeDep) -> dict[str, Any]:
    """Stops and micro-stops of the shift instances the filters select, oldest first."""
    meta, sel, applied, now = resolve_selection(rt, principal.tenant, body.filters)
    with rt.db.tenant(principal.tenant) as conn:
        found = search_stops(conn, meta, sel, now)
        attach_segments(conn, meta, found["stops"])
    return {**found, "filters": applied}
