"""Admin API for the plant's shifts: list, add, edit (times, breaks, working weekdays), delete.

Shifts define planned time: any change (the loader's `apply_plant` on add/edit, a delete here)
marks every line's stops for re-analysis from the start. Stops only point at shifts as derived
data that the re-analysis rewrites, so deleting a shift orphans no detection.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy import delete

from app_fastapi.deps import AdminPrincipal, RowId, RuntimeDep
from app_fastapi.routes.admin_common import audited_change
from app_fastapi.routes.admin_plant_bodies import ShiftBody
from app_fastapi.routes.admin_plant_common import (
    CONFLICT,
    all_line_ids,
    calendar_changed,
    editable,
    require_new_code,
    require_same_code,
    save_entry,
    stored,
)
from core import schema_tenant as t
from core.stops_state import FROM_START
from ingest.plant_rows import Row, codes, shift_rows

router = APIRouter(prefix="/admin/plant/shifts", tags=["admin plant"])


@router.get("")
def list_shifts(principal: AdminPrincipal, rt: RuntimeDep) -> list[Row]:
    """Every shift by start time, with breaks and ISO weekdays (1 = Monday)."""
    with rt.db.tenant(principal.tenant) as conn:
        return shift_rows(conn)


@router.post("", status_code=201, responses=CONFLICT)
def create_shift(body: ShiftBody, principal: AdminPrincipal, rt: RuntimeDep, request: Request) -> Row:
    """Add a shift (409 when the code exists)."""
    with audited_change(rt, principal, request, "shift") as (conn, change):
        require_new_code(conn, t.shifts, body.code, "un turno")
        save_entry(conn, "shifts", body)
        row = stored(shift_rows, conn, codes(conn, t.shifts)[body.code], "turno")
        change.done("create", row["id"], after=editable(row))
    return row


@router.put("/{row_id}", responses=CONFLICT)
def update_shift(row_id: RowId, body: ShiftBody, principal: AdminPrincipal, rt: RuntimeDep,
                 request: Request) -> Row:
    """Replace a shift's times, breaks and weekdays (its code stays)."""
    with audited_change(rt, principal, request, "shift") as (conn, change):
        before = stored(shift_rows, conn, row_id, "turno")
        require_same_code(before, body.code)
        save_entry(conn, "shifts", body)
        row = stored(shift_rows, conn, row_id, "turno")
        change.done("update", row_id, editable(before), editable(row))
    return row


@router.delete("/{row_id}", status_code=204)
def delete_shift(row_id: RowId, principal: AdminPrincipal, rt: RuntimeDep, request: Request) -> Response:
    """Delete a shift and its breaks; every line is re-analysed without it."""
    with audited_change(rt, principal, request, "shift") as (conn, change):
        before = stored(shift_rows, conn, row_id, "turno")
        conn.execute(delete(t.shift_breaks).where(t.shift_breaks.c.shift_id == row_id))
        conn.execute(delete(t.shifts).where(t.shifts.c.id == row_id))
        calendar_changed(conn, all_line_ids(conn), FROM_START)
        change.done("delete", row_id, editable(before))
    return Response(status_code=204)
