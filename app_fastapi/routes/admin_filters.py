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
from app_fastapi.admin.common import read_rows
from app_fastapi.schema_hints import one_of_names
from core.runtime import Runtime
from core.schema_tenant import filters_table
from engine.filter_rows import PARAM_PATTERN, check_filter_change, filter_class_names, filter_row_problems

# The schema names what the engine's checks accept (the Spanish refusal stays the server's answer).
CLASS_DOC = "a registered filter class (GET /admin/classes)"
PARAM_DOC = "request key: lowercase, digits and _"
PARAM_SCHEMA = {"pattern": PARAM_PATTERN}


class FilterRowIn(BaseModel):
    class_name: str = Field(max_length=64, description=CLASS_DOC,
                            json_schema_extra=one_of_names(filter_class_names))
    param_name: str = Field(max_length=64, description=PARAM_DOC, json_schema_extra=PARAM_SCHEMA)
    label: str = Field(min_length=1, max_length=200)
    config: dict[str, Any] = Field(default_factory=dict)
    active: StrictBool = True


class FilterRowPatch(BaseModel):
    class_name: str | None = Field(default=None, max_length=64, description=CLASS_DOC,
                                   json_schema_extra=one_of_names(filter_class_names, nullable=True))
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
    """422: a row that would not load; 409: a duplicate parameter or a change that breaks another
    active row."""
    check_filter_change(read_rows(conn, filters_table), candidate, replaced, rt.meta.get(slug, conn=conn),
                        rt.clock)


def _problems(rt: Runtime, conn: Connection, slug: str, rows: list[dict[str, Any]]) -> dict[int, str]:
    """Why the dashboard skips each active row that it skips."""
    return filter_row_problems(rows, rt.meta.get(slug, conn=conn), rt.clock)


KIND = CatalogKind(
    prefix="/admin/filters", table=filters_table, noun="filtro", audit_what="filter",
    row_in=FilterRowIn, row_patch=FilterRowPatch, row_out=FilterRowOut,
    editable=("class_name", "param_name", "label", "config", "sort_order", "active"),
    check=_check, problems=_problems,
    conflicts="duplicate parameter, or a change that leaves another active filter without what it "
              "depends on, or an order that does not name every row once")
router = catalog_router(KIND)
