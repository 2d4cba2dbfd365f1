"""Admin API for the stop reasons supervisors pick when labelling stops: list, add, edit.

Reasons are never deleted here (stop labels point at them): deactivate one (`active: false`)
and it is no longer offered, while past labels keep their name.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from app_fastapi.deps import AdminPrincipal, RowId, RuntimeDep
from app_fastapi.routes.admin_common import audited_change
from app_fastapi.routes.admin_plant_bodies import StopReasonBody
from app_fastapi.routes.admin_plant_common import (
    CONFLICT,
    editable,
    require_new_code,
    require_same_code,
    save_entry,
    stored,
)
from core import schema_tenant as t
from ingest.plant_rows import Row, codes, stop_reason_rows

router = APIRouter(prefix="/admin/plant/stop-reasons", tags=["admin plant"])


@router.get("")
def list_stop_reasons(principal: AdminPrincipal, rt: RuntimeDep) -> list[Row]:
    """Every stop reason (inactive ones too), by code."""
    with rt.db.tenant(principal.tenant) as conn:
        return stop_reason_rows(conn)


@router.post("", status_code=201, responses=CONFLICT)
def create_stop_reason(body: StopReasonBody, principal: AdminPrincipal, rt: RuntimeDep,
                       request: Request) -> Row:
    """Add a stop reason (409 when the code exists)."""
    with audited_change(rt, principal, request, "stop_reason") as (conn, change):
        require_new_code(conn, t.stop_reasons, body.code, "un motivo")
        save_entry(conn, "stop_reasons", body)
        row = stored(stop_reason_rows, conn, codes(conn, t.stop_reasons)[body.code], "motivo")
        change.done("create", row["id"], after=editable(row))
    return row


@router.put("/{row_id}", responses=CONFLICT)
def update_stop_reason(row_id: RowId, body: StopReasonBody, principal: AdminPrincipal, rt: RuntimeDep,
                       request: Request) -> Row:
    """Rename, activate or deactivate a stop reason (its code stays)."""
    with audited_change(rt, principal, request, "stop_reason") as (conn, change):
        before = stored(stop_reason_rows, conn, row_id, "motivo")
        require_same_code(before, body.code)
        save_entry(conn, "stop_reasons", body)
        row = stored(stop_reason_rows, conn, row_id, "motivo")
        change.done("update", row_id, editable(before), editable(row))
    return row
