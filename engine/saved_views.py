"""Checking a saved view's filter values and dashboard, exactly as a dashboard run would."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from core import schema_tenant as t
from core.errors import ValidationFailed
from core.runtime import Runtime
from filters import load_filter_set


def checked_view_values(rt: Runtime, conn: Connection, tenant: str, raw: dict[str, Any],
                        layout_id: int | None) -> dict[str, Any]:
    """The raw values of the tenant's filters (others dropped), validated like a dashboard run;
    ValidationFailed when a value or the dashboard (`layout_id`) does not validate."""
    filter_set = load_filter_set(conn, rt.meta.get(tenant, conn=conn), rt.clock)
    params = {f.param for f in filter_set.filters}
    kept = {k: v for k, v in raw.items() if k in params}
    filter_set.validate(kept)
    if layout_id is not None and conn.execute(
            select(t.dashboard_layouts.c.id).where(t.dashboard_layouts.c.id == layout_id)).first() is None:
        message = f"el tablero {layout_id} no existe"
        raise ValidationFailed(message, details=[{"field": "layout_id", "message": message}])
    return kept
