"""POST /api/v1/stops/search: the stops and micro-stops behind the dashboard's filters.

The filters are the dashboard's own (same `Filters` rows, same validation, 422 per bad field);
the date range, lines/areas and shifts select shift instances, the other filters do not apply
to stops. Rows come from `stops`, which the gap-analysis job keeps up to date.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from app_fastapi.deps import CurrentPrincipal, RuntimeDep
from app_fastapi.run_bodies import FiltersRequest
from engine.plant_reports import stops_of
from engine.resolve import resolve_run

router = APIRouter(prefix="/stops", tags=["stops"])


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


@router.post("/search", response_model=StopsResponse,
             responses={401: {"description": "missing or invalid token"},
                        422: {"description": "invalid filter values"}})
def search(body: FiltersRequest, principal: CurrentPrincipal, rt: RuntimeDep) -> dict[str, Any]:
    """Stops and micro-stops of the shift instances the filters select, oldest first."""
    return stops_of(rt, resolve_run(rt, principal, body.filters, widgets=False))
