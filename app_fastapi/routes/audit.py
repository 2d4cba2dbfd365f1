"""GET /audit: the caller's tenant's audit log, for its admins only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from app_fastapi.deps import AdminPrincipal, RuntimeDep
from identity.audit import list_events
from identity.request_limits import MAX_DB_INT
from identity.users import tenant_id

router = APIRouter(tags=["audit"])


class AuditEventOut(BaseModel):
    id: int
    ts: datetime = Field(description="when it happened, UTC")
    user_id: int | None
    username: str | None
    action: str
    detail: Any = None
    ip: str | None


class AuditPage(BaseModel):
    events: list[AuditEventOut]


@router.get("/audit", response_model=AuditPage)
def audit(principal: AdminPrincipal, rt: RuntimeDep,
          limit: int = Query(100, ge=1, le=500),
          before: int | None = Query(None, ge=1, le=MAX_DB_INT),
          q: str | None = Query(None, max_length=100, description="text in the user, action or detail")
          ) -> AuditPage:
    """Newest first; pass `before` (an event id) to page backwards, `q` to search."""
    with rt.db.central() as conn:
        tid = tenant_id(conn, principal.tenant)
    search = (q or "").strip() or None
    events = list_events(rt.db, tenant_id=tid, limit=limit, before_id=before, search=search)
    return AuditPage(events=[AuditEventOut(**{**vars(e), "ts": e.ts.replace(tzinfo=UTC)}) for e in events])
