"""Stop reasons: the tenant's reason codes, and supervisors/admins labelling or splitting a stop.

`PATCH /api/v1/stops/{id}` gives a whole stop one reason (null clears it); `POST
/api/v1/stops/{id}/segments` splits it into consecutive reasons. Ids are the current `stops` row
ids from `POST /api/v1/stops/search`; gap analysis rewrites rows (and their ids) but labels are
kept by line and stop start, so an id that vanished is a 404 asking to reload, never a label on
the wrong stop. Every change is audited with before and after, in the same unit of work.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from app_fastapi.admin.common import audited_change
from app_fastapi.deps import CurrentPrincipal, RowId, RuntimeDep
from core.clock import plant_now
from core.errors import Forbidden
from engine.stop_labels import MAX_SEGMENTS, SegmentsOf, relabel_stop, split_into, whole_stop
from identity.engine_tokens import Principal

router = APIRouter(prefix="/stops", tags=["stops"])

LABELLER_ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "viewers cannot label stops (supervisor or admin role required)"},
    404: {"description": "no stop with this id (gap analysis may have rewritten it: reload the list)"},
    422: {"description": "unknown or inactive reason, a micro-stop, or split times outside the stop"},
}


def get_labeller(principal: CurrentPrincipal) -> Principal:
    """403 unless the caller may label stops (supervisor or admin)."""
    if not principal.can_label_stops:
        raise Forbidden("solo un supervisor o un administrador puede dar motivos a las paradas")
    return principal


Labeller = Annotated[Principal, Depends(get_labeller)]


class ReasonOut(BaseModel):
    code: str
    name: str
    active: bool = Field(description="inactive reasons still name old labels but are not offered")


class ReasonsOut(BaseModel):
    reasons: list[ReasonOut]


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "limpieza"}]})

    reason: str | None = Field(max_length=32, description="a reason code; null removes the stop's reasons")


class SegmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=32)
    until: datetime | None = Field(default=None, description=(
        "plant-local time at which this reason ends, inside the stop; omitted on the last segment"))


class SplitIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"segments": [
        {"reason": "formato", "until": "2026-11-16T10:45:00"}, {"reason": "mecanica"}]}]})

    segments: list[SegmentIn] = Field(min_length=1, max_length=MAX_SEGMENTS)


class SegmentOut(BaseModel):
    start: str
    end: str
    reason: str | None
    reason_name: str


class LabelledStop(BaseModel):
    id: int
    line: str
    kind: str
    start: str
    end: str
    downtime_s: float
    segments: list[SegmentOut]


@router.get("/reasons", response_model=ReasonsOut)
def reasons(principal: CurrentPrincipal, rt: RuntimeDep) -> dict[str, Any]:
    """The tenant's stop reason codes (from the plant metadata)."""
    meta = rt.meta.get(principal.tenant)
    return {"reasons": [{"code": r.code, "name": r.name, "active": r.active}
                        for r in sorted(meta.stop_reasons.values(), key=lambda r: r.name)]}


def _apply(rt: RuntimeDep, principal: Principal, request: Request, stop_id: int,
           build: SegmentsOf) -> dict[str, Any]:
    """Relabel one stop, audited with its segments before and after in the same unit of work."""
    meta = rt.meta.get(principal.tenant)
    with audited_change(rt, principal, request, "stop_label") as (conn, change):
        done = relabel_stop(conn, meta, stop_id, build, user=principal.username,
                            at=plant_now(rt.clock, meta.timezone))
        change.done("label", done.stop["id"], done.before, done.stop["segments"])
        change.extra.update(line=done.stop["line"], stop_start=done.stop["start"])
    return done.stop


@router.patch("/{stop_id}", response_model=LabelledStop, responses=LABELLER_ERRORS)
def label(stop_id: RowId, body: ReasonIn, principal: Labeller, rt: RuntimeDep,
          request: Request) -> dict[str, Any]:
    """Give the whole stop one reason, or clear its reasons with null."""
    return _apply(rt, principal, request, stop_id, whole_stop(body.reason))


@router.post("/{stop_id}/segments", response_model=LabelledStop, responses=LABELLER_ERRORS)
def split(stop_id: RowId, body: SplitIn, principal: Labeller, rt: RuntimeDep,
          request: Request) -> dict[str, Any]:
    """Split the stop into consecutive reasons (replaces its previous reasons)."""
    parts = [(seg.reason, seg.until) for seg in body.segments]
    return _apply(rt, principal, request, stop_id, split_into(parts))
