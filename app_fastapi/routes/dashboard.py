"""POST /api/v1/dashboard/run: the one request that runs a whole dashboard.

The tenant comes only from the verified token. Bad filter input is a 422 listing every bad
field; a failing widget or external API is an error entry for that widget alone.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from app_fastapi.deps import CurrentPrincipal, RuntimeDep
from app_fastapi.run_bodies import RunRequest
from engine.run_admission import admitted_run

router = APIRouter(prefix="/dashboard", tags=["dashboard"])


class StaleNote(BaseModel):
    """An external answer older than its TTL, shown because the provider failed just now."""

    as_of: str = Field(description="when that answer was received (plant time, ISO 8601)")
    label: str = Field(description='what the card shows, e.g. "datos de 14:05"')
    reason: str = Field(description="why the live call failed")


class WidgetResult(BaseModel):
    """One widget of the layout, in layout order: its data, or why it has none."""

    model_config = ConfigDict(populate_by_name=True)

    id: int = Field(description="Widget_catalog row id (stable key for the front end)")
    class_: str = Field(alias="class", description="widget class name")
    title: str
    shape: str | None = Field(
        description="the card template: kpi, chart, table or a plugin's; null when the class is unknown")
    source: Literal["internal", "external", "plant"] | None = None
    w: int = Field(description="grid width, 1-12 columns")
    h: int = Field(description="grid height in rows")
    time_ms: float = Field(description="time spent in this widget's process_data")
    data: dict[str, Any] | None = Field(default=None, description=(
        "kpi: {value, unit, decimals, metric, rows}; chart: Chart.js {type, data: {labels, "
        "datasets: [{label, data}]}, options?}; table: {columns: [{key, label, decimals}], rows}; "
        "no data for the filters: {empty: true}"))
    error: str | None = Field(default=None, description="user-facing reason this widget has no data")
    stale: StaleNote | None = Field(default=None, description="set when external data is stale")


class Timings(BaseModel):
    """Milliseconds per pipeline stage (also sent in the Server-Timing header)."""

    filters: float
    query: float
    fetch: float
    joins: float
    grain: float = Field(default=0.0, description="grouping the rows to each widget's grain")
    broker: float
    widgets: float
    total: float


class RunMeta(BaseModel):
    rows: int = Field(description="rows of the master frame")
    columns: list[str] = Field(description="master columns read (union of the widgets' needs)")
    reader: str | None = Field(description="the DB reader used, null when no query ran")
    plan: dict[str, Any] | None = Field(default=None, description=(
        "how the widgets' data was read: {path: pushdown (GROUP BY in the database) | raw (every "
        "detection read and grouped in the engine), reason, grain_rows, bucket_minutes?}"))
    layout_id: int | None
    timings: Timings
    filters: dict[str, Any] = Field(description="the filter values actually applied, per param")
    errors: list[str] = Field(description="configuration problems (admins only)")
    spans: dict[str, list[float]] = Field(default_factory=dict, description=(
        "[start, end] ms since the run began of the overlapping stages: db (master frame "
        "read) and external (API calls)"))
    served: Literal["computed", "shared", "cache"] = Field(
        default="computed", description="computed for this request, shared with an identical run "
        "in flight, or from the short-lived result cache")


class RunResponse(BaseModel):
    widgets: list[WidgetResult]
    meta: RunMeta


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "missing or invalid token"},
    404: {"description": "unknown layout"},
    413: {"description": "the filters select too many rows: narrow them"},
    422: {"description": "invalid filter values; `details` lists {field, message} per bad field"},
    503: {"description": "too many runs at once; retry after the `Retry-After` seconds"},
    504: {"description": "the query ran too long"},
}


@router.post("/run", response_model=RunResponse, responses=ERRORS)
async def run(body: RunRequest, principal: CurrentPrincipal, rt: RuntimeDep, request: Request,
              response: Response) -> Any:
    """Validate the filters, read the data once, run every widget of the layout (identical runs
    are shared or answered from the short-lived cache; see engine/resolve.py and engine/run_admission.py)."""
    result = await admitted_run(request.app, rt, principal, body.filters, body.layout_id)
    response.headers["Server-Timing"] = result.server_timing()
    return {"widgets": result.widgets, "meta": result.meta}
