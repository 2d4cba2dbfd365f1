"""Admin API for the `Widget_catalog` rows of the caller's tenant: list, add, edit, reorder.

A row is validated BEFORE it is written by the run's own check (`engine.widget_rows`): the
class must be registered, its config accepted by the class's config model, what it reads a valid
need (422 otherwise, with the message the run would show). A row placed on a dashboard cannot
be deleted (409 naming the dashboards); disable it instead. The five routes are the shared
catalog router's (`app_fastapi/admin/catalog.py`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, StrictBool
from sqlalchemy import Text, select, type_coerce
from sqlalchemy.engine import Connection

from app_fastapi.admin.catalog import CatalogKind, catalog_router
from app_fastapi.admin.common import clash, parse_config, refuse
from app_fastapi.schema_hints import one_of_names
from core import schema_tenant as t
from core.runtime import Runtime
from engine.widget_rows import row_problem, widget_class_names

catalog = t.widget_catalog


CLASS_DOC = "a registered widget class (GET /admin/classes)"


class WidgetRowIn(BaseModel):
    class_name: str = Field(max_length=64, description=CLASS_DOC,
                            json_schema_extra=one_of_names(widget_class_names))
    title: str = Field(min_length=1, max_length=200)
    config: dict[str, Any] = Field(default_factory=dict)
    active: StrictBool = True


class WidgetRowPatch(BaseModel):
    class_name: str | None = Field(default=None, max_length=64, description=CLASS_DOC,
                                   json_schema_extra=one_of_names(widget_class_names, nullable=True))
    title: str | None = Field(default=None, min_length=1, max_length=200)
    config: dict[str, Any] | None = None
    active: StrictBool | None = None


class WidgetRowOut(BaseModel):
    id: int
    class_name: str
    title: str
    config: Any = None
    sort_order: int
    active: bool
    error: str | None = Field(default=None, description="why the dashboard cannot build this row")


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


def _check(_rt: Runtime, conn: Connection, _slug: str, candidate: dict[str, Any] | None,
           replaced: int | None) -> None:
    """422 for a row the orchestrator could not build; 409 for deleting a row a dashboard places."""
    if candidate is None:
        used = placed_on(conn, replaced or 0)
        if used:
            raise clash("id", f"el widget está en los tableros: {', '.join(used)}; quítelo de ellos o "
                              "desactívelo")
        return
    problem = row_problem(candidate)
    if problem is not None:
        raise refuse("class_name" if "registrada" in problem else "config", problem)


def _problems(_rt: Runtime, _conn: Connection, _slug: str, rows: list[dict[str, Any]]) -> dict[int, str]:
    return {r["id"]: problem for r in rows if (problem := row_problem(r)) is not None}


KIND = CatalogKind(
    prefix="/admin/widgets", table=catalog, noun="widget", audit_what="widget",
    row_in=WidgetRowIn, row_patch=WidgetRowPatch, row_out=WidgetRowOut,
    editable=("class_name", "title", "config", "sort_order", "active"),
    check=_check, problems=_problems,
    conflicts="a row still placed on a dashboard, or an order that does not name every row once")
router = catalog_router(KIND)
