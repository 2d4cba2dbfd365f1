"""Stop reasons: the tenant's reason codes, and supervisors/admins labelling or splitting a stop.

`PATCH /api/v1/stops/{id}` gives a whole stop one reason (null clears it); `POST
/api/v1/stops/{id}/segments` splits it into consecutive reasons. Ids are the current `stops` row
ids from `POST /api/v1/stops/search`; gap analysis rewrites rows (and their ids) but labels are
kept by line and stop start, so an id that vanished is a 404 asking to reload, never a label on
the wrong stop. Every change is audited with before and after, in the same unit of work.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.engine import Connection, Row

from app_fastapi.admin.common import audited_change, refuse
from app_fastapi.deps import CurrentPrincipal, RowId, RuntimeDep
from core import schema_tenant as t
from core.clock import plant_now
from core.errors import Forbidden, NotFound
from core.metadata_cache import TenantMeta
from identity.engine_tokens import Principal
from stops.reasons import MAX_SEGMENTS, Segment, describe, replace_segments, segments_of

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


def _stop(conn: Connection, stop_id: int) -> Row:
    s = t.stops.c
    row = conn.execute(select(s.id, s.line_id, s.kind, s.start_ts, s.end_ts, s.downtime_s)
                       .where(s.id == stop_id)).first()
    if row is None:
        raise NotFound(f"la parada {stop_id} ya no existe (el análisis la recalculó): recargue la lista")
    if row.kind != "stop":
        raise refuse("id", "solo las paradas llevan motivo; las microparadas no")
    return row


def _reason_id(meta: TenantMeta, code: str, field: str) -> int:
    reason = meta.stop_reasons_by_code.get(code)
    if reason is None or not reason.active:
        raise refuse(field, f"motivo desconocido o inactivo: {code!r}")
    return reason.id


def _plant_local(moment: datetime, meta: TenantMeta) -> datetime:
    """Naive plant-local time at millisecond precision (what DATETIME(3) keeps)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(ZoneInfo(meta.timezone)).replace(tzinfo=None)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _split(meta: TenantMeta, stop: Row, body: SplitIn) -> list[Segment]:
    """Consecutive segments from the stop's start; each `until` strictly inside and increasing."""
    segments, start = [], stop.start_ts
    last = len(body.segments) - 1
    for i, seg in enumerate(body.segments):
        segments.append(Segment(start, _reason_id(meta, seg.reason, f"segments.{i}.reason")))
        if i == last:
            if seg.until is not None:
                raise refuse(f"segments.{i}.until",
                             "el último tramo llega hasta el fin de la parada: sin 'until'")
            break
        if seg.until is None:
            raise refuse(f"segments.{i}.until", "cada tramo salvo el último necesita su hora de fin")
        until = _plant_local(seg.until, meta)
        if not start < until < stop.end_ts:
            raise refuse(f"segments.{i}.until", "la hora de fin del tramo debe caer dentro de la parada, "
                                                "después del tramo anterior")
        start = until
    return segments


def _apply(rt: RuntimeDep, principal: Principal, request: Request, stop_id: int,
           build: Callable[[TenantMeta, Row], list[Segment]]) -> dict[str, Any]:
    """Replace one stop's segments with `build(meta, stop)`, audited with before and after."""
    meta = rt.meta.get(principal.tenant)
    with audited_change(rt, principal, request, "stop_label") as (conn, change):
        stop = _stop(conn, stop_id)
        segments = build(meta, stop)
        before = describe(meta, segments_of(conn, stop.line_id, stop.start_ts), stop.end_ts)
        replace_segments(conn, stop.line_id, stop.start_ts, segments, user=principal.username,
                         at=plant_now(rt.clock, meta.timezone))
        after = describe(meta, segments, stop.end_ts)
        line = meta.lines[stop.line_id]
        change.done("label", stop.id, before, after)
        change.extra.update(line=line.code, stop_start=stop.start_ts.isoformat())
    return {"id": stop.id, "line": line.code, "kind": stop.kind, "start": stop.start_ts.isoformat(),
            "end": stop.end_ts.isoformat(), "downtime_s": float(stop.downtime_s), "segments": after}


@router.patch("/{stop_id}", response_model=LabelledStop, responses=LABELLER_ERRORS)
def label(stop_id: RowId, body: ReasonIn, principal: Labeller, rt: RuntimeDep,
          request: Request) -> dict[str, Any]:
    """Give the whole stop one reason, or clear its reasons with null."""
    def build(meta: TenantMeta, stop: Row) -> list[Segment]:
        if body.reason is None:
            return []
        return [Segment(stop.start_ts, _reason_id(meta, body.reason, "reason"))]
    return _apply(rt, principal, request, stop_id, build)


@router.post("/{stop_id}/segments", response_model=LabelledStop, responses=LABELLER_ERRORS)
def split(stop_id: RowId, body: SplitIn, principal: Labeller, rt: RuntimeDep,
          request: Request) -> dict[str, Any]:
    """Split the stop into consecutive reasons (replaces its previous reasons)."""
    return _apply(rt, principal, request, stop_id, lambda meta, stop: _split(meta, stop, body))
