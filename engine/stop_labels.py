"""Labelling a stop: one reason for the whole stop, or consecutive reasons that split it.

Ids are the current `stops` row ids; gap analysis rewrites rows (and their ids) but labels are
kept by line and stop start, so an id that vanished is a NotFound asking to reload, never a label
on the wrong stop. The caller owns the unit of work (and its audit event).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.engine import Connection, Row

from core import schema_tenant as t
from core.errors import NotFound, ValidationFailed
from core.metadata_cache import TenantMeta
from stops.reasons import MAX_SEGMENTS as MAX_SEGMENTS  # the routes' bound on a split's length
from stops.reasons import Segment, describe, replace_segments, segments_of

SegmentsOf = Callable[[TenantMeta, Row], list[Segment]]
"""Builds a stop's new segments from the plant metadata and its `stops` row."""


@dataclass(frozen=True)
class Relabelled:
    """The stop as answered after the change (its segments described) and its segments before."""

    stop: dict[str, Any]
    before: list[dict[str, Any]]


def _refuse(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, details=[{"field": field, "message": message}])


def _stop(conn: Connection, stop_id: int) -> Row:
    s = t.stops.c
    row = conn.execute(select(s.id, s.line_id, s.kind, s.start_ts, s.end_ts, s.downtime_s)
                       .where(s.id == stop_id)).first()
    if row is None:
        raise NotFound(f"la parada {stop_id} ya no existe (el análisis la recalculó): recargue la lista")
    if row.kind != "stop":
        raise _refuse("id", "solo las paradas llevan motivo; las microparadas no")
    return row


def _reason_id(meta: TenantMeta, code: str, field: str) -> int:
    reason = meta.stop_reasons_by_code.get(code)
    if reason is None or not reason.active:
        raise _refuse(field, f"motivo desconocido o inactivo: {code!r}")
    return reason.id


def _plant_local(moment: datetime, meta: TenantMeta) -> datetime:
    """Naive plant-local time at millisecond precision (what DATETIME(3) keeps)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(ZoneInfo(meta.timezone)).replace(tzinfo=None)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def whole_stop(reason: str | None) -> SegmentsOf:
    """One reason from the stop's start to its end; None clears the stop's reasons."""
    def build(meta: TenantMeta, stop: Row) -> list[Segment]:
        if reason is None:
            return []
        return [Segment(stop.start_ts, _reason_id(meta, reason, "reason"))]
    return build


def split_into(parts: Sequence[tuple[str, datetime | None]]) -> SegmentsOf:
    """Consecutive (reason, until) segments from the stop's start; each `until` strictly inside
    the stop and increasing, and none on the last segment (it lasts to the stop's end)."""
    def build(meta: TenantMeta, stop: Row) -> list[Segment]:
        segments, start = [], stop.start_ts
        last = len(parts) - 1
        for i, (reason, until) in enumerate(parts):
            segments.append(Segment(start, _reason_id(meta, reason, f"segments.{i}.reason")))
            if i == last:
                if until is not None:
                    raise _refuse(f"segments.{i}.until",
                                  "el último tramo llega hasta el fin de la parada: sin 'until'")
                break
            if until is None:
                raise _refuse(f"segments.{i}.until", "cada tramo salvo el último necesita su hora de fin")
            end = _plant_local(until, meta)
            if not start < end < stop.end_ts:
                raise _refuse(f"segments.{i}.until", "la hora de fin del tramo debe caer dentro de la "
                                                     "parada, después del tramo anterior")
            start = end
        return segments
    return build


def relabel_stop(conn: Connection, meta: TenantMeta, stop_id: int, build: SegmentsOf, *,
                 user: str, at: datetime) -> Relabelled:
    """Replace one stop's segments with `build(meta, stop)` in the caller's connection."""
    stop = _stop(conn, stop_id)
    segments = build(meta, stop)
    before = describe(meta, segments_of(conn, stop.line_id, stop.start_ts), stop.end_ts)
    replace_segments(conn, stop.line_id, stop.start_ts, segments, user=user, at=at)
    after = describe(meta, segments, stop.end_ts)
    return Relabelled(
        stop={"id": stop.id, "line": meta.lines[stop.line_id].code, "kind": stop.kind,
              "start": stop.start_ts.isoformat(), "end": stop.end_ts.isoformat(),
              "downtime_s": float(stop.downtime_s), "segments": after},
        before=before)
