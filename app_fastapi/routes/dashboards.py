"""GET /api/v1/dashboards: the caller's tenant's named dashboards, for the header's picker."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import select

from app_fastapi.deps import CurrentPrincipal, RuntimeDep
from core import schema_tenant as t

router = APIRouter(tags=["dashboard"])


class DashboardRef(BaseModel):
    id: int
    name: str
    is_default: bool


@router.get("/dashboards", response_model=list[DashboardRef])
def list_dashboards(principal: CurrentPrincipal, rt: RuntimeDep) -> list[DashboardRef]:
    """Every dashboard of the tenant, the default first, then by name (read per request)."""
    layouts = t.dashboard_layouts
    with rt.db.tenant(principal.tenant) as conn:
        rows = conn.execute(select(layouts.c.id, layouts.c.name, layouts.c.is_default)
                            .order_by(layouts.c.is_default.desc(), layouts.c.name, layouts.c.id)).all()
    return [DashboardRef(id=r.id, name=r.name, is_default=bool(r.is_default)) for r in rows]
