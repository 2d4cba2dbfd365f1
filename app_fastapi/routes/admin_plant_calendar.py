"""Admin API for the plant-closed calendar: list, add and delete closed days.

A closed day (the whole plant, or some lines) removes that production date from planned time,
so adding or deleting one marks the affected lines for re-analysis from that date on only.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request, Response
from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection

from app_fastapi.admin.common import audited_change
from app_fastapi.admin.plant_bodies import ClosedDayBody
from app_fastapi.admin.plant_common import (
    CONFLICT,
    all_line_ids,
    calendar_changed,
    editable,
    refusal,
    stored,
)
from app_fastapi.deps import AdminPrincipal, RowId, RuntimeDep
from core import schema_tenant as t
from core.errors import Conflict
from ingest.plant_metadata import PlantIn, cross_check
from ingest.plant_rows import Row, closed_day_rows, codes

router = APIRouter(prefix="/admin/plant/closed-days", tags=["admin plant"])


@router.get("")
def list_closed_days(principal: AdminPrincipal, rt: RuntimeDep) -> list[Row]:
    """Every closed day by date; `line` is null when the whole plant is closed."""
    with rt.db.tenant(principal.tenant) as conn:
        return closed_day_rows(conn)


def _line_ids(conn: Connection, body: ClosedDayBody) -> list[int | None]:
    line_ids = codes(conn, t.lines)
    errors = cross_check(PlantIn(closed_days=[body]), known_areas=set(), known_lines=set(line_ids))
    if errors:
        raise refusal(errors)
    return sorted({line_ids[code] for code in body.lines}) or [None]


def _taken(conn: Connection, body: ClosedDayBody, line_ids: list[int | None]) -> None:
    c = t.closed_days.c
    for line_id in line_ids:
        same_line = c.line_id.is_(None) if line_id is None else c.line_id == line_id
        if conn.execute(select(c.id).where(c.day == body.date, same_line)).first() is not None:
            raise Conflict(f"el {body.date.isoformat()} ya está cerrado"
                           + ("" if line_id is None else " para esa línea"),
                           details=[{"field": "date", "message": "día ya cerrado"}])


@router.post("", status_code=201, responses=CONFLICT)
def create_closed_day(body: ClosedDayBody, principal: AdminPrincipal, rt: RuntimeDep,
                      request: Request) -> list[Row]:
    """Close a production day for the plant (no `lines`) or for the lines listed (one row each)."""
    with audited_change(rt, principal, request, "closed_day") as (conn, change):
        line_ids = _line_ids(conn, body)
        _taken(conn, body, line_ids)
        new_ids = [conn.execute(insert(t.closed_days).values(day=body.date, line_id=line_id, name=body.name)
                                ).inserted_primary_key[0] for line_id in line_ids]
        calendar_changed(conn, all_line_ids(conn) if line_ids == [None] else line_ids, body.date)
        rows = [stored(closed_day_rows, conn, new_id, "día cerrado") for new_id in new_ids]
        change.done("create", new_ids[0], after=[editable(r) for r in rows])
    return rows


@router.delete("/{row_id}", status_code=204)
def delete_closed_day(row_id: RowId, principal: AdminPrincipal, rt: RuntimeDep, request: Request) -> Response:
    """Reopen a closed day (one row: the plant, or one line)."""
    with audited_change(rt, principal, request, "closed_day") as (conn, change):
        before = stored(closed_day_rows, conn, row_id, "día cerrado")
        line_id = conn.execute(select(t.closed_days.c.line_id).where(t.closed_days.c.id == row_id)).scalar()
        conn.execute(delete(t.closed_days).where(t.closed_days.c.id == row_id))
        calendar_changed(conn, all_line_ids(conn) if line_id is None else [line_id],
                         date.fromisoformat(before["date"]))
        change.done("delete", row_id, editable(before))
    return Response(status_code=204)
