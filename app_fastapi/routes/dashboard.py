"""POST /api/v1/dashboard/run: the one request that runs a whole dashboard.

The tenant comes only from the verified token. Bad filter input is a 422 listing every bad
field; a failing widget or external API is an error entry for that widget alone.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from app_fastapi.deps import CurrentPrincipal, RuntimeDep
from app_fastapi.orchestrator import run_dashboard
from identity.request_limits import MAX_DB_INT

router = APIRouter(prefix="/dashboard", tags=["dashboard"])


class RunRequest(BaseModel):
    """The user's filter selections, keyed by filter param (see GET /api/v1/filters)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "filters": {"fecha": {"preset": "personalizado", "start": "2026-11-20", "end": "2026-11-26"},
                    "lineas": [1, 2], "incluir_rechazos": True},
    }]})

    filters: dict[str, Any] = Field(default_factory=dict, description="raw value per filter param; "
                                    "a missing param takes its default")
    layout_id: StrictInt | None = Field(default=None, ge=1, le=MAX_DB_INT,
                                  description="dashboard_layouts id; default if absent")


class WidgetResult(BaseModel):
    """One widget of the layout, in layout order: its data, or why it has none."""

    model_config = ConfigDict(populate_by_name=True)

    id: int = Field(description="Widget_catalog row id (stable key for the front end)")
    class_: str = Field(alias="class", description="widget class name")
    title: str
    shape: Literal["kpi", "chart", "table"] | None = Field(
        description="which card renders it; null when the class is unknown")
    source: Literal["internal", "external"] | None = None
    w: int = Field(description="grid width, 1-12 columns")
    h: int = Field(description="grid height in rows")
    time_ms: float = Field(description="time spent in this widget's process_data")
    data: dict[str, Any] | None = Field(default=None, description=(
        "kpi: {value, unit, decimals, metric, rows}; chart: Chart.js {type, data: {labels, "
        "datasets: [{label, data}]}, options?}; table: {columns: [{key, label, decimals}], rows}; "
        "no data for the filters: {empty: true}"))
    error: str | None = Field(default=None, description="user-facing reason this widget has no data")


class Timings(BaseModel):
    """Milliseconds per pipeline stage (also sent in the Server-Timing header)."""

    filters: float
    query: float
    fetch: float
    joins: float
    broker: float
    widgets: float
    total: float


class RunMeta(BaseModel):
    rows: int = Field(description="rows of the master frame")
    columns: list[str] = Field(description="master columns read (union of the widgets' needs)")
    reader: str | None = Field(description="the DB reader used, null when no query ran")
    layout_id: int | None
    timings: Timings
    filters: dict[str, Any] = Field(description="the filter values actually applied, per param")
    errors: list[str] = Field(description="configuration problems (admins only)")


class RunResponse(BaseModel):
    widgets: list[WidgetResult]
    meta: RunMeta


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "missing or invalid token"},
    404: {"description": "unknown layout"},
    413: {"description": "the filters select too many rows: narrow them"},
    422: {"description": "invalid filter values; `details` lists {field, message} per bad field"},
    504: {"description": "the query ran too long"},
}


@router.post("/run", response_model=RunResponse, responses=ERRORS)
async def run(body: RunRequest, principal: CurrentPrincipal, rt: RuntimeDep, request: Request,
              response: Response) -> Any:
    """Validate the filters, read the data once, run every widget of the layout."""
    result = await run_dashboard(rt, principal, body.filters, body.layout_id, local_app=request.app)
    response.headers["Server-Timing"] = result.server_timing()
    return {"widgets": result.widgets, "meta": result.meta}
