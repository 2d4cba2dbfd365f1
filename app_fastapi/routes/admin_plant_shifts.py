"""Admin API for the plant's shifts: list, add, edit (times, breaks, working weekdays), delete.

Shifts define planned time: any change (the loader's `apply_plant` on add/edit, a delete here)
marks every line's stops for re-analysis from the start. Stops only point at shifts as derived
data that the re-analysis rewrites, so deleting a shift orphans no detection.
"""

from __future__ import annotations

from fastapi import Request, Response
from sqlalchemy import delete

from app_fastapi.admin.common import audited_change
from app_fastapi.admin.plant_bodies import ShiftBody
from app_fastapi.admin.plant_coded import CodedKind, coded_router
from app_fastapi.admin.plant_common import all_line_ids, calendar_changed, editable, stored
from app_fastapi.deps import AdminPrincipal, RowId, RuntimeDep
from core import schema_tenant as t
from core.stops_state import FROM_START
from ingest.plant_rows import shift_rows

router = coded_router(CodedKind("shifts", "shifts", t.shifts, shift_rows, ShiftBody, "turno", "un turno",
                                "shift"))


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
