"""Admin API for the plant's lines: list, add, edit (name, area, ideal rate, thresholds, active).

Lines are never deleted here: their detections, stops and imports point at them. A line that
stops producing is deactivated (`active: false`). A new line gets its detections table at once.
Changed thresholds mark the line's stops for re-analysis (the loader's `apply_plant`).
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from app_fastapi.deps import AdminPrincipal, RowId, RuntimeDep
from app_fastapi.routes.admin_common import audited_change
from app_fastapi.routes.admin_plant_bodies import LineBody
from app_fastapi.routes.admin_plant_common import (
    CONFLICT,
    editable,
    require_new_code,
    require_same_code,
    save_entry,
    stored,
)
from core import schema_tenant as t
from core.detection_tables import ensure_line_table
from ingest.plant_rows import Row, codes, line_rows

router = APIRouter(prefix="/admin/plant/lines", tags=["admin plant"])


@router.get("")
def list_lines(principal: AdminPrincipal, rt: RuntimeDep) -> list[Row]:
    """Every line (inactive ones too), by code."""
    with rt.db.tenant(principal.tenant) as conn:
        return line_rows(conn)


@router.post("", status_code=201, responses=CONFLICT)
def create_line(body: LineBody, principal: AdminPrincipal, rt: RuntimeDep, request: Request) -> Row:
    """Add a line and create its detections table (409 when the code exists)."""
    with audited_change(rt, principal, request, "line") as (conn, change):
        require_new_code(conn, t.lines, body.code, "una línea")
        save_entry(conn, "lines", body)
        row = stored(line_rows, conn, codes(conn, t.lines)[body.code], "línea")
        change.done("create", row["id"], after=editable(row))
    with rt.db.tenant(principal.tenant) as conn:  # DDL commits on MySQL: after the audited change
        ensure_line_table(conn, row["id"], today=rt.clock.now_utc().date())
    return row


@router.put("/{row_id}", responses=CONFLICT)
def update_line(row_id: RowId, body: LineBody, principal: AdminPrincipal, rt: RuntimeDep,
                request: Request) -> Row:
    """Replace a line's settings (its code stays); `active: false` deactivates it."""
    with audited_change(rt, principal, request, "line") as (conn, change):
        before = stored(line_rows, conn, row_id, "línea")
        require_same_code(before, body.code)
        save_entry(conn, "lines", body)
        row = stored(line_rows, conn, row_id, "línea")
        change.done("update", row_id, editable(before), editable(row))
    return row
