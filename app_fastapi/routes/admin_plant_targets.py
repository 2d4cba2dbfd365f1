"""Admin API for production targets: list, add, edit and delete.

A target belongs to a line and optionally to one shift and/or one product (the key); at most one
target per key. Nothing points at targets, so deleting one is safe.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy import delete
from sqlalchemy.engine import Connection

from app_fastapi.admin.common import audited_change
from app_fastapi.admin.plant_bodies import TargetBody
from app_fastapi.admin.plant_common import CONFLICT, editable, save_entry, stored
from app_fastapi.deps import AdminPrincipal, RowId, RuntimeDep
from core import schema_tenant as t
from core.errors import Conflict
from core.metadata_cache import bump_metadata_version
from ingest.plant_rows import Row, target_rows

router = APIRouter(prefix="/admin/plant/targets", tags=["admin plant"])


def _key(row: Row | TargetBody) -> tuple[str, str | None, str | None]:
    if isinstance(row, dict):
        return row["line"], row["shift"], row["product"]
    return row.line, row.shift, row.product


def _free(conn: Connection, body: TargetBody, keep: int | None = None) -> None:
    """409 when another target has the same line, shift and product."""
    if any(_key(r) == _key(body) and r["id"] != keep for r in target_rows(conn)):
        raise Conflict("ya hay un objetivo para esa línea, turno y producto; edítelo",
                       details=[{"field": "line", "message": "objetivo repetido"}])


def _saved(conn: Connection, body: TargetBody) -> Row:
    return next(r for r in target_rows(conn) if _key(r) == _key(body))


@router.get("")
def list_targets(principal: AdminPrincipal, rt: RuntimeDep) -> list[Row]:
    """Every target by line, shift and product codes (null = every shift / product)."""
    with rt.db.tenant(principal.tenant) as conn:
        return target_rows(conn)


@router.post("", status_code=201, responses=CONFLICT)
def create_target(body: TargetBody, principal: AdminPrincipal, rt: RuntimeDep, request: Request) -> Row:
    """Add a target (409 when its line/shift/product already has one)."""
    with audited_change(rt, principal, request, "target") as (conn, change):
        _free(conn, body)
        save_entry(conn, "targets", body)
        row = _saved(conn, body)
        change.done("create", row["id"], after=editable(row))
    return row


@router.put("/{row_id}", responses=CONFLICT)
def update_target(row_id: RowId, body: TargetBody, principal: AdminPrincipal, rt: RuntimeDep,
                  request: Request) -> Row:
    """Replace a target (its key may change, but not onto another target's)."""
    with audited_change(rt, principal, request, "target") as (conn, change):
        before = stored(target_rows, conn, row_id, "objetivo")
        _free(conn, body, keep=row_id)
        conn.execute(delete(t.targets).where(t.targets.c.id == row_id))
        save_entry(conn, "targets", body)
        row = _saved(conn, body)
        change.done("update", row["id"], editable(before), editable(row))
    return row


@router.delete("/{row_id}", status_code=204)
def delete_target(row_id: RowId, principal: AdminPrincipal, rt: RuntimeDep, request: Request) -> Response:
    """Delete a target."""
    with audited_change(rt, principal, request, "target") as (conn, change):
        before = stored(target_rows, conn, row_id, "objetivo")
        conn.execute(delete(t.targets).where(t.targets.c.id == row_id))
        bump_metadata_version(conn)
        change.done("delete", row_id, editable(before))
    return Response(status_code=204)
