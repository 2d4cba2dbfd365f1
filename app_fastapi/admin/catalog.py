"""One admin router for the catalog tables (`Filters`, `Widget_catalog`): list, add, edit, reorder.

Both tables hold rows of the same shape (a registered class, a label, a JSON config, an order, an
on/off switch) with the same life cycle; only how a row is checked differs, and each table brings
that as a `CatalogKind`. Every change is checked BEFORE it is written and audited with its before
and after (`audited_change`). A wrong method on `/order` is a 405, not a 422 about a non-numeric
id, because integer path parameters match digits only (`app_fastapi/path_ids.py`).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from app_fastapi.admin.common import OrderIn, audited_change, read_row, read_rows, reorder
from app_fastapi.deps import AdminPrincipal, RowId, RuntimeDep
from app_fastapi.openapi_errors import conflict
from core.runtime import Runtime

NEW_ROW_ID = 0  # the id a row being created has while it is checked

# (runtime, tenant connection, tenant slug, candidate row or None when deleting, id it replaces)
RowCheck = Callable[[Runtime, Connection, str, dict[str, Any] | None, int | None], None]
# (runtime, tenant connection, tenant slug, rows) → {row id: why the dashboard skips it}
RowProblems = Callable[[Runtime, Connection, str, list[dict[str, Any]]], dict[int, str]]


@dataclass(frozen=True)
class CatalogKind:
    """What one catalog table brings to the shared router."""

    prefix: str  # "/admin/filters"
    table: Table
    noun: str  # Spanish, in "filtro 7 no existe"
    audit_what: str  # the audit log's detail.what
    row_in: type[BaseModel]
    row_patch: type[BaseModel]
    row_out: type[BaseModel]
    editable: tuple[str, ...]  # the columns an audit event records
    check: RowCheck  # raises ValidationFailed (422) or Conflict (409)
    problems: RowProblems
    conflicts: str  # what a 409 means for this table


def listed_rows(kind: CatalogKind, rt: Runtime, tenant: str) -> list[BaseModel]:
    """Every row in display order, with the reason when the dashboard skips it (the list route,
    and other admin pages that show broken rows)."""
    with rt.db.tenant(tenant) as conn:
        rows = read_rows(conn, kind.table)
        problems = kind.problems(rt, conn, tenant, rows)
    return [kind.row_out(**r, error=problems.get(r["id"])) for r in rows]


def catalog_router(kind: CatalogKind) -> APIRouter:
    """The five routes of one catalog table."""
    router = APIRouter(prefix=kind.prefix, tags=["admin"])
    table = kind.table
    clash = conflict(kind.conflicts)

    def editable(row: dict[str, Any]) -> dict[str, Any]:
        return {k: row[k] for k in kind.editable}

    def list_rows(principal: AdminPrincipal, rt: RuntimeDep) -> list[BaseModel]:
        """Every row in display order, with the reason when the dashboard skips it."""
        return listed_rows(kind, rt, principal.tenant)

    def create(body: kind.row_in, principal: AdminPrincipal, rt: RuntimeDep,
               request: Request) -> BaseModel:
        """Add a row at the end of the order (refused if it would not load)."""
        values = body.model_dump()
        with audited_change(rt, principal, request, kind.audit_what) as (conn, change):
            kind.check(rt, conn, principal.tenant, {**values, "id": NEW_ROW_ID}, None)
            last = conn.execute(select(func.max(table.c.sort_order))).scalar() or 0
            inserted = conn.execute(insert(table).values(**values, sort_order=last + 10))
            row_id = inserted.inserted_primary_key[0]
            row = read_row(conn, table, row_id, kind.noun)
            change.done("create", row_id, after=editable(row))
        return kind.row_out(**row)

    def patch(row_id: RowId, body: kind.row_patch, principal: AdminPrincipal, rt: RuntimeDep,
              request: Request) -> BaseModel:
        """Change some fields of one row (enable/disable: `{"active": false}`), checked first."""
        values = body.model_dump(exclude_none=True)
        with audited_change(rt, principal, request, kind.audit_what) as (conn, change):
            before = read_row(conn, table, row_id, kind.noun)
            kind.check(rt, conn, principal.tenant, {**before, **values}, row_id)
            if values:  # `{}` (or only nulls) changes nothing: no UPDATE without columns
                conn.execute(update(table).where(table.c.id == row_id).values(**values))
            row = read_row(conn, table, row_id, kind.noun)
            change.done("update", row_id, editable(before), editable(row))
        return kind.row_out(**row)

    def remove(row_id: RowId, principal: AdminPrincipal, rt: RuntimeDep, request: Request) -> Response:
        """Delete one row (409 when something still depends on it)."""
        with audited_change(rt, principal, request, kind.audit_what) as (conn, change):
            before = read_row(conn, table, row_id, kind.noun)
            kind.check(rt, conn, principal.tenant, None, row_id)
            conn.execute(delete(table).where(table.c.id == row_id))
            change.done("delete", row_id, editable(before))
        return Response(status_code=204)

    def order(body: OrderIn, principal: AdminPrincipal, rt: RuntimeDep, request: Request) -> list[BaseModel]:
        """Set the display order: `ids` lists every row once, first shown first (409 otherwise)."""
        with audited_change(rt, principal, request, kind.audit_what) as (conn, change):
            reorder(conn, table, body.ids, change)
        return list_rows(principal, rt)

    many = list[kind.row_out]  # type: ignore[name-defined]
    router.add_api_route("", list_rows, methods=["GET"], response_model=many)
    router.add_api_route("", create, methods=["POST"], response_model=kind.row_out, status_code=201,
                         responses=clash)
    router.add_api_route("/order", order, methods=["POST"], response_model=many, responses=clash)
    router.add_api_route("/{row_id}", patch, methods=["PATCH"], response_model=kind.row_out,
                         responses=clash)
    router.add_api_route("/{row_id}", remove, methods=["DELETE"], status_code=204, responses=clash)
    return router
