"""GET /lines/status: every active line's status now, for the live view and API clients."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from app_fastapi.deps import CurrentPrincipal, RuntimeDep
from core.clock import plant_now
from query.line_status import RATE_WINDOW_MIN, line_statuses

router = APIRouter(tags=["live"])


class LineStatusOut(BaseModel):
    code: str
    name: str
    status: str
    label: str
    since: datetime | None
    last_detection: datetime | None
    shift: str | None
    units_shift: int | None
    rejects_shift: int | None
    target: int | None
    rate_per_h: int | None
    ideal_per_h: int
    oee: float | None


class LinesStatus(BaseModel):
    now: datetime
    timezone: str
    rate_window_min: int
    lines: list[LineStatusOut]


@router.get("/lines/status", response_model=LinesStatus)
def lines_status(principal: CurrentPrincipal, rt: RuntimeDep) -> LinesStatus:
    """Plant-local times; OEE = good units ÷ (ideal rate × planned minutes of the shift so far)."""
    with rt.db.tenant(principal.tenant) as conn:
        meta = rt.meta.get(principal.tenant, conn)
        lines = line_statuses(conn, meta, rt.clock)
    return LinesStatus(now=plant_now(rt.clock, meta.timezone).replace(microsecond=0),
                       timezone=meta.timezone, rate_window_min=RATE_WINDOW_MIN,
                       lines=[LineStatusOut(**item) for item in lines])
