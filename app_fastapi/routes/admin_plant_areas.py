"""Admin API for the plant's areas: list, add, rename, delete an area no line belongs to."""

from __future__ import annotations

from fastapi import Request, Response
from sqlalchemy import delete, select

from app_fastapi.admin.common import audited_change
from app_fastapi.admin.plant_bodies import AreaBody
from app_fastapi.admin.plant_coded import CodedKind, coded_router
from app_fastapi.admin.plant_common import CONFLICT, editable, stored
from app_fastapi.deps import AdminPrincipal, RowId, RuntimeDep
from core import schema_tenant as t
from core.errors import Conflict
from core.metadata_cache import bump_metadata_version
from ingest.plant_rows import area_rows

router = coded_router(CodedKind("areas", "areas", t.areas, area_rows, AreaBody, "área", "un área", "area"))


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
