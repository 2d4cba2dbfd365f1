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
from app_fastapi.routes.stops import FiltersRequest, resolve_selection
from engine.csv_export import csv_chunks
from query.shift_report import REPORT_COLUMNS, shift_report

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


def to_csv(rows: list[dict[str, Any]]) -> str:
    """The report rows as CSV (header first, `.` decimals, empty cell for undefined ratios)."""
    columns = [*REPORT_COLUMNS[:-1], "performance_above_1", "open"]
    return "".join(csv_chunks(columns, ([row[c] for c in columns] for row in rows)))


@router.post("/shifts", response_model=ShiftReport,
             responses={200: {"content": {"text/csv": {}}},
                        401: {"description": "missing or invalid token"},
                        422: {"description": "invalid filter values"}})
def shifts(body: FiltersRequest, principal: CurrentPrincipal, rt: RuntimeDep, request: Request) -> Any:
    """Per shift instance and line: planned, downtime, stops, units, A, P, Q and OEE."""
    meta, sel, applied, now = resolve_selection(rt, principal.tenant, body.filters)
    with rt.db.tenant(principal.tenant) as conn:
        report = shift_report(conn, meta, sel, now)
    if "text/csv" in request.headers.get("accept", ""):
        return Response(to_csv(report["rows"]), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="turnos.csv"'})
    return {**report, "filters": applied}
