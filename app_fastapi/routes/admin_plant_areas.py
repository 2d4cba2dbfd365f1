"""Admin API for the plant's areas: list, add, rename, delete an area no line belongs to."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy import delete, select

from app_fastapi.deps import AdminPrincipal, RowId, RuntimeDep
from app_fastapi.routes.admin_common import audited_change
from app_fastapi.routes.admin_plant_bodies import AreaBody
from app_fastapi.routes.admin_plant_common import (
    CONFLICT,
    editable,
    require_new_code,
    require_same_code,
    save_entry,
    stored,
)
from core import schema_tenant as t
from core.errors import Conflict
from core.metadata_cache import bump_metadata_version
from ingest.plant_rows import Row, area_rows, codes

router = APIRouter(prefix="/admin/plant/areas", tags=["admin plant"])


@router.get("")
def list_areas(principal: AdminPrincipal, rt: RuntimeDep) -> list[Row]:
    """Every area, by code."""
    with rt.db.tenant(principal.tenant) as conn:
        return area_rows(conn)


@router.post("", status_code=201, responses=CONFLICT)
def create_area(body: AreaBody, principal: AdminPrincipal, rt: RuntimeDep, request: Request) -> Row:
    """Add an area (409 when the code exists)."""
    with audited_change(rt, principal, request, "area") as (conn, change):
        require_new_code(conn, t.areas, body.code, "un área")
        save_entry(conn, "areas", body)
        row = stored(area_rows, conn, codes(conn, t.areas)[body.code], "área")
        change.done("create", row["id"], after=editable(row))
    return row


@router.put("/{row_id}", responses=CONFLICT)
def update_area(row_id: RowId, body: AreaBody, principal: AdminPrincipal, rt: RuntimeDep,
                request: Request) -> Row:
    """Rename an area (its code stays)."""
    with audited_change(rt, principal, request, "area") as (conn, change):
        before = stored(area_rows, conn, row_id, "área")
        require_same_code(before, body.code)
        save_entry(conn, "areas", body)
        row = stored(area_rows, conn, row_id, "área")
        change.done("update", row_id, editable(before), editable(row))
    return row


@router.delete("/{row_id}", status_code=204, responses=CONFLICT)
def delete_area(row_id: RowId, principal: AdminPrincipal, rt: RuntimeDep, request: Request) -> Response:
    """Delete an area no line belongs to (409 naming the lines otherwise)."""
    with audited_change(rt, principal, request, "area") as (conn, change):
        before = stored(area_rows, conn, row_id, "área")
        used = conn.execute(select(t.lines.c.code).where(t.lines.c.area_id == row_id)
                            .order_by(t.lines.c.code)).scalars().all()
        if used:
            raise Conflict(f"el área tiene líneas: {', '.join(used)}; cámbielas de área primero")
        conn.execute(delete(t.areas).where(t.areas.c.id == row_id))
        bump_metadata_version(conn)
        change.done("delete", row_id, editable(before))
    return Response(status_code=204)
