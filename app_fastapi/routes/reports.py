"""POST /api/v1/reports/shifts: availability, performance, quality and OEE per shift instance.

One row per production date × shift × line (`query.shift_report`), plus totals summed
component-wise; with `Accept: text/csv` the same rows as CSV.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from app_fastapi.deps import CurrentPrincipal, RuntimeDep
from app_fastapi.run_bodies import FiltersRequest
from engine.csv_export import csv_chunks
from engine.plant_reports import SHIFT_COLUMNS, shift_report_of, shift_rows
from engine.resolve import resolve_run

router = APIRouter(prefix="/reports", tags=["reports"])


class ShiftRow(BaseModel):
    production_date: str = Field(description="YYYY-MM-DD, the day the shift started")
    shift: str
    shift_name: str
    line: str
    line_name: str
    planned_s: float = Field(description="planned production seconds elapsed (window − breaks − days off)")
    downtime_s: float
    run_s: float
    stops: int
    micro_stops: int
    units: int
    good: int = Field(description="units not rejected")
    availability: float | None
    performance: float | None = Field(description="not capped: see performance_above_1")
    performance_above_1: bool = Field(description="faster than the ideal rate: check the line's ideal rate")
    quality: float | None
    oee: float | None
    open: bool = Field(description="a stop is still going on")


class ShiftTotals(BaseModel):
    planned_s: float
    downtime_s: float
    run_s: float
    stops: int
    micro_stops: int
    units: int
    good: int
    availability: float | None
    performance: float | None
    performance_above_1: bool
    quality: float | None
    oee: float | None
    open: bool


class ShiftReport(BaseModel):
    rows: list[ShiftRow]
    totals: ShiftTotals
    filters: dict[str, Any]


@router.post("/shifts", response_model=ShiftReport,
             responses={200: {"content": {"text/csv": {}}},
                        401: {"description": "missing or invalid token"},
                        422: {"description": "invalid filter values"}})
def shifts(body: FiltersRequest, principal: CurrentPrincipal, rt: RuntimeDep, request: Request) -> Any:
    """Per shift instance and line: planned, downtime, stops, units, A, P, Q and OEE."""
    report = shift_report_of(rt, resolve_run(rt, principal, body.filters, widgets=False))
    if "text/csv" in request.headers.get("accept", ""):
        text = "".join(csv_chunks(list(SHIFT_COLUMNS), shift_rows(report)))
        return Response(text, media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="turnos.csv"'})
    return report
