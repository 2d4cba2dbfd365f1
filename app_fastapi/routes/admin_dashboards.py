"""Admin API for the tenant's named dashboards (layouts) and their items.

Each item places one `Widget_catalog` row of the caller's tenant by id, with a width (1-12
columns) and a height (1-4 rows). An item naming a row that does not exist in this tenant (a
missing id, or another tenant's) is refused with 422 before anything is saved. Exactly one
dashboard is the default; a duplicate name or deleting the last dashboard is a 409.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool
from sqlalchemy import Text, delete, insert, select, type_coerce, update
from sqlalchemy.engine import Connection

from app_fastapi.admin.common import audited_change, clash, parse_config, refuse
from app_fastapi.deps import AdminPrincipal, RowId, RuntimeDep
from app_fastapi.openapi_errors import conflict
from core import schema_tenant as t
from core.errors import Conflict, NotFound
from identity.request_limits import MAX_DB_INT

router = APIRouter(prefix="/admin/dashboards", tags=["admin"])
layouts = t.dashboard_layouts
NAME_CLASH = conflict("a dashboard with that name exists already")


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    widget_id: int = Field(ge=1, le=MAX_DB_INT, description="Widget_catalog row id of the caller's tenant")
    w: int | None = Field(default=None, ge=1, le=12, description="width in columns (class default)")
    h: int | None = Field(default=None, ge=1, le=4, description="height in rows (class default)")


class DashboardIn(BaseModel):
    name: str = Field(min_length=1, max_length=200, pattern=r"\S", description="not only spaces")
    is_default: StrictBool = False
    items: list[ItemIn] = Field(default_factory=list, max_length=100)


class DashboardOut(BaseModel):
    id: int
    name: str
    is_default: bool
    items: Any


def _read(conn: Connection, layout_id: int | None = None) -> list[dict[str, Any]]:
    stmt = select(layouts.c.id, layouts.c.name, layouts.c.is_default,
                  type_coerce(layouts.c["items"], Text).label("items")).order_by(layouts.c.id)
    if layout_id is not None:
        stmt = stmt.where(layouts.c.id == layout_id)
    return [{"id": r.id, "name": r.name, "is_default": bool(r.is_default), "items": parse_config(r.items)}
            for r in conn.execute(stmt)]


def _one(conn: Connection, layout_id: int) -> dict[str, Any]:
    rows = _read(conn, layout_id)
    if not rows:
        raise NotFound(f"el tablero {layout_id} no existe")
    return rows[0]


def _check(conn: Connection, body: DashboardIn, layout_id: int | None) -> list[dict[str, int]]:
    """The items to store, or a 422 (409 for a taken name) naming the first problem (nothing written yet)."""
    same_name = conn.execute(select(layouts.c.id).where(layouts.c.name == body.name.strip())).first()
    if not body.name.strip():
        raise refuse("name", "el tablero necesita un nombre")
    if same_name is not None and same_name.id != layout_id:
        raise clash("name", f"ya existe un tablero llamado «{body.name.strip()}»")
    known = set(conn.execute(select(t.widget_catalog.c.id)).scalars())
    seen: set[int] = set()
    for index, item in enumerate(body.items):
        if item.widget_id not in known:
            raise refuse(f"items.{index}.widget_id", f"el widget {item.widget_id} no existe en este cliente")
        if item.widget_id in seen:
            raise refuse(f"items.{index}.widget_id", f"el widget {item.widget_id} está dos veces")
        seen.add(item.widget_id)
    return [item.model_dump(exclude_none=True) for item in body.items]


def _make_default(conn: Connection, layout_id: int) -> None:
    conn.execute(update(layouts).values(is_default=layouts.c.id == layout_id))


@router.get("", response_model=list[DashboardOut])
def list_dashboards(principal: AdminPrincipal, rt: RuntimeDep) -> list[DashboardOut]:
    """Every dashboard with its items."""
    with rt.db.tenant(principal.tenant) as conn:
        return [DashboardOut(**r) for r in _read(conn)]


@router.get("/{layout_id}", response_model=DashboardOut)
def get_dashboard(layout_id: RowId, principal: AdminPrincipal, rt: RuntimeDep) -> DashboardOut:
    """One dashboard with its items."""
    with rt.db.tenant(principal.tenant) as conn:
        return DashboardOut(**_one(conn, layout_id))


@router.post("", response_model=DashboardOut, status_code=201, responses=NAME_CLASH)
def create(body: DashboardIn, principal: AdminPrincipal, rt: RuntimeDep, request: Request) -> DashboardOut:
    """Add a named dashboard (the first one is the default whatever `is_default` says)."""
    with audited_change(rt, principal, request, "dashboard") as (conn, change):
        items = _check(conn, body, None)
        first = conn.execute(select(layouts.c.id)).first() is None
        layout_id = conn.execute(insert(layouts).values(
            name=body.name.strip(), is_default=False, items=items)).inserted_primary_key[0]
        if body.is_default or first:
            _make_default(conn, layout_id)
        row = _one(conn, layout_id)
        change.done("create", layout_id, after=row)
    return DashboardOut(**row)


@router.put("/{layout_id}", response_model=DashboardOut, responses=NAME_CLASH)
def replace(layout_id: RowId, body: DashboardIn, principal: AdminPrincipal, rt: RuntimeDep,
            request: Request) -> DashboardOut:
    """Replace name and items; `is_default: true` makes it the default (it cannot be unset here)."""
    with audited_change(rt, principal, request, "dashboard") as (conn, change):
        before = _one(conn, layout_id)
        items = _check(conn, body, layout_id)
        conn.execute(update(layouts).where(layouts.c.id == layout_id)
                     .values(name=body.name.strip(), items=items))
        if body.is_default:
            _make_default(conn, layout_id)
        row = _one(conn, layout_id)
        change.done("update", layout_id, before, row)
    return DashboardOut(**row)


@router.post("/{layout_id}/default", response_model=DashboardOut)
def set_default(layout_id: RowId, principal: AdminPrincipal, rt: RuntimeDep,
                request: Request) -> DashboardOut:
    """Make this dashboard the one users see first."""
    with audited_change(rt, principal, request, "dashboard") as (conn, change):
        before = _one(conn, layout_id)
        _make_default(conn, layout_id)
        row = _one(conn, layout_id)
        change.done("default", layout_id, before, row)
    return DashboardOut(**row)


@router.delete("/{layout_id}", status_code=204, responses=conflict("the last dashboard stays"))
def remove(layout_id: RowId, principal: AdminPrincipal, rt: RuntimeDep, request: Request) -> Response:
    """Delete a dashboard; deleting the default promotes the oldest other one; the last stays."""
    with audited_change(rt, principal, request, "dashboard") as (conn, change):
        before = _one(conn, layout_id)
        others = conn.execute(select(layouts.c.id).where(layouts.c.id != layout_id)
                              .order_by(layouts.c.id)).scalars().all()
        if not others:
            raise Conflict("no se puede borrar el único tablero")
        conn.execute(delete(layouts).where(layouts.c.id == layout_id))
        if before["is_default"]:
            _make_default(conn, others[0])
        change.done("delete", layout_id, before)
    return Response(status_code=204)
