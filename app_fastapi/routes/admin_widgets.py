"""Admin API for the `Widget_catalog` rows of the caller's tenant: list, add, edit, reorder.

A row is validated BEFORE it is written, exactly as the orchestrator will build it: the class
must be registered, its config accepted by the class's config model, its columns known. A row
placed on a dashboard cannot be deleted (409 naming the dashboards); disable it instead.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import Text, delete, func, insert, select, type_coerce, update
from sqlalchemy.engine import Connection

from app_fastapi.deps import AdminPrincipal, RowId, RuntimeDep
from app_fastapi.routes.admin_common import (
    OrderIn,
    audited_change,
    parse_config,
    read_row,
    read_rows,
    refuse,
    reorder,
)
from core import schema_tenant as t
from core.errors import Conflict, RegistryError
from query.columns import check_columns
from widgets import widget_registry
from widgets.base import BaseWidget

router = APIRouter(prefix="/admin/widgets", tags=["admin"])
catalog = t.widget_catalog


class WidgetRowIn(BaseModel):
    class_name: str = Field(max_length=64, description="a registered widget class (GET /admin/classes)")
    title: str = Field(min_length=1, max_length=200)
    config: dict[str, Any] = Field(default_factory=dict)
    active: bool = True


class WidgetRowPatch(BaseModel):
    class_name: str | None = Field(default=None, max_length=64)
    title: str | None = Field(default=None, min_length=1, max_length=200)
    config: dict[str, Any] | None = None
    active: bool | None = None


class WidgetRowOut(BaseModel):
    id: int
    class_name: str
    title: str
    config: Any = None
    sort_order: int
    active: bool
    error: str | None = Field(default=None, description="why the dashboard cannot build this row")


def row_problem(row: dict[str, Any]) -> str | None:
    """Why the orchestrator would not build this row (None when it would)."""
    name = row["class_name"]
    if name not in widget_registry or not issubclass(widget_registry.get(name), BaseWidget):
        return f"la clase de widget «{str(name)[:64]}» no está registrada"
    if not isinstance(row["config"], dict | None):
        return "la configuración debe ser un objeto JSON"
    try:
        widget = widget_registry.get(name)(widget_id=row.get("id") or 0, title=row["title"],
                                           config=row["config"])
        check_columns(widget.columns())
    except (RegistryError, ValueError) as exc:
        return f"configuración no válida: {getattr(exc, 'message', exc)}"
    return None


def _check(row: dict[str, Any]) -> None:
    problem = row_problem(row)
    if problem is not None:
        raise refuse("class_name" if "registrada" in problem else "config", problem)


def _editable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("class_name", "title", "config", "sort_order", "active")}


def _out(row: dict[str, Any]) -> WidgetRowOut:
    return WidgetRowOut(**row, error=row_problem(row))


def placed_on(conn: Connection, row_id: int) -> list[str]:
    """Names of the dashboards whose items place this catalog row."""
    layouts = t.dashboard_layouts
    names = []
    for r in conn.execute(select(layouts.c.name, type_coerce(layouts.c["items"], Text).label("items"))):
        items = parse_config(r.items)
        if isinstance(items, list) and any(isinstance(i, dict) and i.get("widget_id") == row_id
                                           for i in items):
            names.append(r.name)
    return names


@router.get("", response_model=list[WidgetRowOut])
def list_rows(principal: AdminPrincipal, rt: RuntimeDep) -> list[WidgetRowOut]:
    """Every catalog row in display order, with the reason when it cannot be built."""
    with rt.db.tenant(principal.tenant) as conn:
        return [_out(r) for r in read_rows(conn, catalog)]


@router.post("", response_model=WidgetRowOut, status_code=201)
def create(body: WidgetRowIn, principal: AdminPrincipal, rt: RuntimeDep, request: Request) -> WidgetRowOut:
    """Add a catalog row at the end (refused with 422 if it could not be built)."""
    _check(body.model_dump())
    with audited_change(rt, principal, request, "widget") as (conn, change):
        last = conn.execute(select(func.max(catalog.c.sort_order))).scalar() or 0
        row_id = conn.execute(insert(catalog).values(**body.model_dump(), sort_order=last + 10)
                              ).inserted_primary_key[0]
        row = read_row(conn, catalog, row_id, "widget")
        change.done("create", row_id, after=_editable(row))
    return _out(row)


@router.patch("/{row_id}", response_model=WidgetRowOut)
def patch(row_id: RowId, body: WidgetRowPatch, principal: AdminPrincipal, rt: RuntimeDep,
          request: Request) -> WidgetRowOut:
    """Change some fields of one row (enable/disable: `{"active": false}`), validated first."""
    with audited_change(rt, principal, request, "widget") as (conn, change):
        before = read_row(conn, catalog, row_id, "widget")
        _check({**before, **body.model_dump(exclude_none=True)})
        conn.execute(update(catalog).where(catalog.c.id == row_id)
                     .values(**body.model_dump(exclude_none=True)))
        row = read_row(conn, catalog, row_id, "widget")
        change.done("update", row_id, _editable(before), _editable(row))
    return _out(row)


@router.delete("/{row_id}", status_code=204)
def remove(row_id: RowId, principal: AdminPrincipal, rt: RuntimeDep, request: Request) -> Response:
    """Delete one row that no dashboard places (409 naming the dashboards otherwise)."""
    with audited_change(rt, principal, request, "widget") as (conn, change):
        before = read_row(conn, catalog, row_id, "widget")
        used = placed_on(conn, row_id)
        if used:
            raise Conflict(f"el widget está en los tableros: {', '.join(used)}; quítelo de ellos o "
                           "desactívelo")
        conn.execute(delete(catalog).where(catalog.c.id == row_id))
        change.done("delete", row_id, _editable(before))
    return Response(status_code=204)


@router.post("/order", response_model=list[WidgetRowOut])
def order(body: OrderIn, principal: AdminPrincipal, rt: RuntimeDep, request: Request) -> list[WidgetRowOut]:
    """Set the catalog order (layouts keep their own order: they reference row ids)."""
    with audited_change(rt, principal, request, "widget") as (conn, change):
        reorder(conn, catalog, body.ids, change)
    return list_rows(principal, rt)
