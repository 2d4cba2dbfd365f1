"""GET /lines/status: every active line's status now, for the live view and API clients.

Times are the plant's local times, as the detections store them, sent with the plant's UTC offset
(`2026-11-18T15:29:54-03:00`) so they are RFC 3339 date-times an API client can compare.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from app_fastapi.deps import CurrentPrincipal, RuntimeDep
from engine.line_status import lines_status_now

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
    return LinesStatus(**lines_status_now(rt, principal.tenant))
