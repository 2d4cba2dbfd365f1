"""Admin API for the `Filters` rows of the caller's tenant: list, add, edit, reorder, enable.

A change is validated BEFORE it is written, exactly as the dashboard will load it: the class
must be registered, the parameter well formed and unique, the config accepted by the class's
config model and checks; and the change must not break another active row (disabling the lines
filter that the products filter depends on is refused). Refusals are a 422 with the reason.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection

from app_fastapi.deps import AdminPrincipal, RowId, RuntimeDep
from app_fastapi.routes.admin_common import OrderIn, audited_change, read_row, read_rows, refuse, reorder
from core.runtime import Runtime
from core.schema_tenant import filters_table
from filters import BaseFilter, build_filter_set, filter_registry
from filters.engine import PARAM_RE

router = APIRouter(prefix="/admin/filters", tags=["admin"])
NEW_ROW_ID = 0  # the id a row being created has while it is validated


class FilterRowIn(BaseModel):
    class_name: str = Field(max_length=64, description="a registered filter class (GET /admin/classes)")
    param_name: str = Field(max_length=64, description="request key: lowercase, digits and _")
    label: str = Field(min_length=1, max_length=200)
    config: dict[str, Any] = Field(default_factory=dict)
    active: bool = True


class FilterRowPatch(BaseModel):
    class_name: str | None = Field(default=None, max_length=64)
    param_name: str | None = Field(default=None, max_length=64)
    label: str | None = Field(default=None, min_length=1, max_length=200)
    config: dict[str, Any] | None = None
    active: bool | None = None


class FilterRowOut(BaseModel):
    id: int
    class_name: str
    param_name: str
    label: str
    config: Any = None
    sort_order: int
    active: bool
    error: str | None = Field(default=None, description="why the dashboard skips this row, if it does")


def _editable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("class_name", "param_name", "label", "config", "sort_order", "active")}


def _check(rt: Runtime, conn: Connection, slug: str, candidate: dict[str, Any] | None,
           replaced: int | None) -> None:
    """Refuse (422) a row that would not load, or a change that breaks another active row."""
    rows = read_rows(conn, filters_table)
    others = [r for r in rows if r["id"] != replaced and r["active"]]
    meta = rt.meta.get(slug, conn=conn)
    if candidate is not None:
        name = candidate["class_name"]
        if name not in filter_registry or not issubclass(filter_registry.get(name), BaseFilter):
            raise refuse("class_name", f"la clase de filtro «{name[:64]}» no está registrada")
        if not PARAM_RE.fullmatch(candidate["param_name"]):
            raise refuse("param_name", "el parámetro debe ser minúsculas, dígitos y _ (máx. 64)")
        if any(r["param_name"] == candidate["param_name"] and r["id"] != replaced for r in rows):
            raise refuse("param_name", f"ya existe un filtro con el parámetro «{candidate['param_name']}»")
        built = build_filter_set([*others, dict(candidate, active=True)], meta, rt.clock)
        own = [e.message for e in built.errors if e.row_id == candidate["id"]]
        if own:
            raise refuse("config", own[0])
    broken_before = {e.row_id for e in build_filter_set(
        [r for r in rows if r["active"]], meta, rt.clock).errors}
    after = [*others, *([candidate] if candidate is not None and candidate["active"] else [])]
    broken = [e for e in build_filter_set(after, meta, rt.clock).errors
              if e.row_id not in broken_before and (candidate is None or e.row_id != candidate["id"])]
    if broken:
        raise refuse("active", f"el cambio deja sin funcionar al filtro «{broken[0].param}»: "
                               f"{broken[0].message}")


@router.get("", response_model=list[FilterRowOut])
def list_rows(principal: AdminPrincipal, rt: RuntimeDep) -> list[FilterRowOut]:
    """Every row in display order, with the reason when the dashboard skips it."""
    with rt.db.tenant(principal.tenant) as conn:
        rows = read_rows(conn, filters_table)
        meta = rt.meta.get(principal.tenant, conn=conn)
    errors = {e.row_id: e.message for e in build_filter_set(
        [r for r in rows if r["active"]], meta, rt.clock).errors}
    return [FilterRowOut(**r, error=errors.get(r["id"])) for r in rows]


@router.post("", response_model=FilterRowOut, status_code=201)
def create(body: FilterRowIn, principal: AdminPrincipal, rt: RuntimeDep, request: Request) -> FilterRowOut:
    """Add a row at the end of the order (refused with 422 if it would not load)."""
    with audited_change(rt, principal, request, "filter") as (conn, change):
        candidate = {**body.model_dump(), "id": NEW_ROW_ID}
        _check(rt, conn, principal.tenant, candidate, None)
        last = conn.execute(select(func.max(filters_table.c.sort_order))).scalar() or 0
        values = {**body.model_dump(), "sort_order": last + 10}
        row_id = conn.execute(insert(filters_table).values(**values)).inserted_primary_key[0]
        row = read_row(conn, filters_table, row_id, "filtro")
        change.done("create", row_id, after=_editable(row))
    return FilterRowOut(**row)


@router.patch("/{row_id}", response_model=FilterRowOut)
def patch(row_id: RowId, body: FilterRowPatch, principal: AdminPrincipal, rt: RuntimeDep,
          request: Request) -> FilterRowOut:
    """Change some fields of one row (enable/disable: `{"active": false}`), validated first."""
    with audited_change(rt, principal, request, "filter") as (conn, change):
        before = read_row(conn, filters_table, row_id, "filtro")
        candidate = {**before, **body.model_dump(exclude_none=True)}
        _check(rt, conn, principal.tenant, candidate, row_id)
        conn.execute(update(filters_table).where(filters_table.c.id == row_id)
                     .values(**body.model_dump(exclude_none=True)))
        row = read_row(conn, filters_table, row_id, "filtro")
        change.done("update", row_id, _editable(before), _editable(row))
    return FilterRowOut(**row)


@router.delete("/{row_id}", status_code=204)
def remove(row_id: RowId, principal: AdminPrincipal, rt: RuntimeDep, request: Request) -> Response:
    """Delete one row (refused if another active filter depends on it)."""
    with audited_change(rt, principal, request, "filter") as (conn, change):
        before = read_row(conn, filters_table, row_id, "filtro")
        _check(rt, conn, principal.tenant, None, row_id)
        conn.execute(delete(filters_table).where(filters_table.c.id == row_id))
        change.done("delete", row_id, _editable(before))
    return Response(status_code=204)


@router.post("/order", response_model=list[FilterRowOut])
def order(body: OrderIn, principal: AdminPrincipal, rt: RuntimeDep, request: Request) -> list[FilterRowOut]:
    """Set the display order: `ids` lists every row once, first shown first."""
    with audited_change(rt, principal, request, "filter") as (conn, change):
        reorder(conn, filters_table, body.ids, change)
    return list_rows(principal, rt)
