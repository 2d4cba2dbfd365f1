"""Admin API for the `Filters` rows of the caller's tenant: list, add, edit, reorder, enable.

A change is validated BEFORE it is written, exactly as the dashboard will load it: the class
must be registered, the parameter well formed and unique, the config accepted by the class's
config model and checks; and the change must not break another active row (disabling the lines
filter that the products filter depends on is refused). A row that would not load is a 422 with
the reason; a duplicate parameter or a change another row cannot live with is a 409. The five
routes are the shared catalog router's (`app_fastapi/admin/catalog.py`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, StrictBool
from sqlalchemy.engine import Connection

from app_fastapi.admin.catalog import CatalogKind, catalog_router
from app_fastapi.admin.common import clash, read_rows, refuse
from app_fastapi.schema_hints import one_of_names
from core.runtime import Runtime
from core.schema_tenant import filters_table
from filters import BaseFilter, build_filter_set, filter_registry
from filters.filter_set import PARAM_RE


def _registered() -> list[str]:
    return [n for n in filter_registry.names() if issubclass(filter_registry.get(n), BaseFilter)]


# The schema names what the checks below accept (the Spanish refusal stays the server's answer).
CLASS_DOC = "a registered filter class (GET /admin/classes)"
PARAM_DOC = "request key: lowercase, digits and _"
PARAM_SCHEMA = {"pattern": f"^{PARAM_RE.pattern}$"}


class FilterRowIn(BaseModel):
    class_name: str = Field(max_length=64, description=CLASS_DOC, json_schema_extra=one_of_names(_registered))
    param_name: str = Field(max_length=64, description=PARAM_DOC, json_schema_extra=PARAM_SCHEMA)
    label: str = Field(min_length=1, max_length=200)
    config: dict[str, Any] = Field(default_factory=dict)
    active: StrictBool = True


class FilterRowPatch(BaseModel):
    class_name: str | None = Field(default=None, max_length=64, description=CLASS_DOC,
                                   json_schema_extra=one_of_names(_registered, nullable=True))
    param_name: str | None = Field(default=None, max_length=64, description=PARAM_DOC,
                                   json_schema_extra=PARAM_SCHEMA)
    label: str | None = Field(default=None, min_length=1, max_length=200)
    config: dict[str, Any] | None = None
    active: StrictBool | None = None


class FilterRowOut(BaseModel):
    id: int
    class_name: str
    param_name: str
    label: str
    config: Any = None
    sort_order: int
    active: bool
    error: str | None = Field(default=None, description="why the dashboard skips this row, if it does")


def _check(rt: Runtime, conn: Connection, slug: str, candidate: dict[str, Any] | None,
           replaced: int | None) -> None:
    """Refuse a row that would not load (422), or a duplicate parameter or a change that breaks
    another active row (409: it clashes with the rows there are now)."""
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
            raise clash("param_name", f"ya existe un filtro con el parámetro «{candidate['param_name']}»")
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
        raise clash("active", f"el cambio deja sin funcionar al filtro «{broken[0].param}»: "
                              f"{broken[0].message}")


def _problems(rt: Runtime, conn: Connection, slug: str, rows: list[dict[str, Any]]) -> dict[int, str]:
    """Why the dashboard skips each active row that it skips."""
    meta = rt.meta.get(slug, conn=conn)
    built = build_filter_set([r for r in rows if r["active"]], meta, rt.clock)
    return {e.row_id: e.message for e in built.errors}


KIND = CatalogKind(
    prefix="/admin/filters", table=filters_table, noun="filtro", audit_what="filter",
    row_in=FilterRowIn, row_patch=FilterRowPatch, row_out=FilterRowOut,
    editable=("class_name", "param_name", "label", "config", "sort_order", "active"),
    check=_check, problems=_problems,
    conflicts="duplicate parameter, or a change that leaves another active filter without what it "
              "depends on, or an order that does not name every row once")
router = catalog_router(KIND)
