"""CSV exports: one widget's data, or the shift report, for the dashboard's filters.

`POST /api/v1/exports/widgets/{id}` runs the dashboard with the posted filters exactly like
`dashboard/run`: same admission (so the export of what the user just saw comes from the
short-lived result cache) and same per-user dashboard-run limit (app_fastapi/deps.py). It turns
that widget's JSON into rows with its shape's `rows()` (engine/exports.py): the file always
equals the card. `POST /api/v1/exports/shifts` streams the per-shift report. `?format=excel`
gives the Spanish-Excel variant (`;`, decimal comma, BOM).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse

from app_fastapi.deps import CurrentPrincipal, RowId, RuntimeDep
from app_fastapi.run_bodies import FiltersRequest, RunRequest
from engine.csv_export import Format, csv_chunks, media_type
from engine.exports import widget_table
from engine.plant_reports import SHIFT_COLUMNS, shift_report_of, shift_rows
from engine.resolve import resolve_run
from engine.run_admission import admitted_run

router = APIRouter(prefix="/exports", tags=["exports"])

FormatParam = Query(default="csv", description="csv: `,` and `.` decimals; excel: `;`, decimal comma, BOM")
CSV_OK: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}}, "description": "the CSV file"}}


def _download(chunks: Iterator[str], fmt: Format, name: str) -> StreamingResponse:
    filename = f"{name}{'-excel' if fmt == 'excel' else ''}.csv"
    return StreamingResponse(chunks, media_type=media_type(fmt),
                             headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.post("/widgets/{widget_id}", response_class=StreamingResponse, responses={
    **CSV_OK,
    404: {"description": "no widget with this Widget_catalog id in the layout"},
    409: {"description": "the widget has no data to export (its error is the message)"},
    413: {"description": "the filters select too many rows: narrow them"},
    422: {"description": "invalid filter values or format"},
    503: {"description": "too many runs at once; retry later"},
})
async def widget_csv(widget_id: RowId, body: RunRequest, principal: CurrentPrincipal, rt: RuntimeDep,
                     request: Request, format: Literal["csv", "excel"] = FormatParam) -> Response:  # noqa: A002
    """The rows of one widget of the layout for these filters (header first)."""
    result = await admitted_run(request.app, rt, principal, body.filters, body.layout_id)
    header, rows = widget_table(result.widgets, widget_id)
    return _download(csv_chunks(header, rows, format), format, f"widget-{widget_id}")


@router.post("/shifts", response_class=StreamingResponse, responses={
    **CSV_OK, 422: {"description": "invalid filter values or format"}})
def shifts_csv(body: FiltersRequest, principal: CurrentPrincipal, rt: RuntimeDep,
               format: Literal["csv", "excel"] = FormatParam) -> StreamingResponse:  # noqa: A002
    """The per-shift report (one row per production date × shift × line) as CSV."""
    report = shift_report_of(rt, resolve_run(rt, principal, body.filters, widgets=False))
    return _download(csv_chunks(list(SHIFT_COLUMNS), shift_rows(report), format), format, "turnos")
