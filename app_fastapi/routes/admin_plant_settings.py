"""Admin API for the plant's settings that are not entries: its start of history.

GET /admin/plant/settings   the stored history start and the timestamps writes accept now
PUT /admin/plant/settings   {"history_start": "YYYY-MM-DD" | null}: null goes back to the rolling
                            default (now − CAMET_PLAUSIBLE_PAST_DAYS). Rows before the start are
                            refused by every write path and ignored by the gap analysis, so a
                            change re-analyses every line's stops from the earlier start.
Written with the YAML loader's own code, audited like every plant edit.
"""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from app_fastapi.admin.common import audited_change
from app_fastapi.admin.plant_common import refusal
from app_fastapi.deps import AdminPrincipal, IsoDay, RuntimeDep
from core.clock import plant_today
from core.errors import Conflict
from core.plausibility import Plausibility
from core.runtime import Runtime
from core.timeutil import with_plant_offset
from ingest.plant_settings import MIN_HISTORY_YEAR, apply_history_start, check_history_start

router = APIRouter(prefix="/admin/plant/settings", tags=["admin plant"])
FROM_1970 = r"^(19[7-9][0-9]|[2-9][0-9]{3})-"  # a day of 1970 or later (format: date does the rest)


class PlantSettingsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    history_start: IsoDay | None = Field(
        description="first day of the plant's history (1970 on, not after the plant's today); null: the "
                    "rolling default",
        json_schema_extra={"pattern": FROM_1970})


class PlantSettingsOut(BaseModel):
    history_start: date | None
    accepted_from: datetime = Field(description="plant time with its offset: the oldest timestamp "
                                    "writes accept now")
    accepted_until: datetime = Field(description="plant time with its offset: now + CAMET_PLAUSIBLE_FUTURE_S")
    default_past_days: int


def _out(rt: Runtime, slug: str) -> PlantSettingsOut:
    meta = rt.meta.get(slug)
    window = Plausibility.of(rt.settings).window(meta, rt.clock)
    return PlantSettingsOut(history_start=meta.history_start,
                            accepted_from=with_plant_offset(window.lo, meta.timezone),
                            accepted_until=with_plant_offset(window.hi, meta.timezone),
                            default_past_days=rt.settings.plausible_past_days)


@router.get("", response_model=PlantSettingsOut)
def get_settings(principal: AdminPrincipal, rt: RuntimeDep) -> PlantSettingsOut:
    """The plant's history start and the range of timestamps accepted now."""
    return _out(rt, principal.tenant)


@router.put("", response_model=PlantSettingsOut,
            responses={409: {"description": "a history start after the plant's today"}})
def put_settings(body: PlantSettingsBody, principal: AdminPrincipal, rt: RuntimeDep,
                 request: Request) -> PlantSettingsOut:
    """Set (or clear) the plant's history start; 422 before 1970 (the schema's pattern), 409 after
    the plant's today (a date the clock, not the schema, rules out)."""
    meta = rt.meta.get(principal.tenant)
    value = body.history_start
    if value is not None and value.year < MIN_HISTORY_YEAR:
        raise refusal([f"history_start: must be a date from {MIN_HISTORY_YEAR}-01-01 on"])
    errors = check_history_start(value, plant_today(rt.clock, meta.timezone))
    if errors:
        refused = refusal(errors)
        raise Conflict(refused.message, details=refused.details)
    with audited_change(rt, principal, request, "plant_settings") as (conn, change):
        apply_history_start(conn, value)
        before = meta.history_start.isoformat() if meta.history_start else None
        change.done("update", None, before={"history_start": before},
                    after={"history_start": value.isoformat() if value else None})
    rt.meta.invalidate(principal.tenant)
    return _out(rt, principal.tenant)
