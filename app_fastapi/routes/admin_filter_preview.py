"""POST /admin/filters/preview: a filter row as the dashboard would show it, before it is saved.

The admin form's live preview sends the row being edited (class, parameter, label, config);
the answer is the filter's front-end definition (options, default, form type) built exactly as
the dashboard builds it, next to the tenant's other active rows (a products filter needs its
lines filter), or a 422 with the reason the row would not load. Nothing is written.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from app_fastapi.admin.catalog import NEW_ROW_ID
from app_fastapi.admin.common import read_rows
from app_fastapi.deps import AdminPrincipal, RuntimeDep
from core.schema_tenant import filters_table
from engine.filter_rows import preview_filter
from identity.request_limits import MAX_DB_INT

router = APIRouter(prefix="/admin/filters", tags=["admin"])


class FilterPreviewIn(BaseModel):
    id: int | None = Field(default=None, ge=1, le=MAX_DB_INT, description="the row being edited (none: new)")
    class_name: str = Field(max_length=64)
    param_name: str = Field(max_length=64)
    label: str = Field(default="", max_length=200)
    config: dict[str, Any] = Field(default_factory=dict)


@router.post("/preview", response_model=dict[str, Any])
def preview(body: FilterPreviewIn, principal: AdminPrincipal, rt: RuntimeDep) -> dict[str, Any]:
    """The definition the dashboard would render for this row (422: why it would not load)."""
    row_id = body.id or NEW_ROW_ID
    candidate = {**body.model_dump(), "id": row_id, "label": body.label.strip() or body.param_name}
    with rt.db.tenant(principal.tenant) as conn:
        rows = read_rows(conn, filters_table)
        meta = rt.meta.get(principal.tenant, conn=conn)
    return preview_filter(rows, candidate, meta, rt.clock)
