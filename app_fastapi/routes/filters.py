"""GET /api/v1/filters: the caller's tenant's filter definitions, ready to render.

Rows of `Filters` that cannot be used are reported, never fatal. Admins get each skipped row in
full (row id, class name, param, reason) so they can fix it; viewers get only the param and a
generic Spanish notice, because class names and config problems are of no use to them and
reveal internals.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from app_fastapi.deps import CurrentPrincipal, RuntimeDep
from engine.filter_panel import filter_panel

router = APIRouter(tags=["filters"])

VIEWER_NOTICE = "Este filtro no está disponible por un error de configuración; avise a un administrador."


class FilterRowProblem(BaseModel):
    param: str
    message: str
    row_id: int | None = None
    class_name: str | None = None


class FiltersOut(BaseModel):
    filters: list[dict[str, Any]]
    errors: list[FilterRowProblem]
    timezone: str
    metadata_version: int


def _problem(skipped: dict[str, Any], *, admin: bool) -> FilterRowProblem:
    if admin:
        return FilterRowProblem(**skipped)
    return FilterRowProblem(param=skipped["param"], message=VIEWER_NOTICE)


@router.get("/filters", response_model=FiltersOut)
def list_filters(principal: CurrentPrincipal, rt: RuntimeDep) -> FiltersOut:
    """Filter definitions (options from the metadata cache, defaults) and skipped rows."""
    panel = filter_panel(rt, principal.tenant)
    return FiltersOut(
        filters=panel.filters,
        errors=[_problem(e, admin=principal.is_admin) for e in panel.skipped],
        timezone=panel.timezone,
        metadata_version=panel.metadata_version,
    )
