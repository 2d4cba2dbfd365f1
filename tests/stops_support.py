"""Fixture helpers for the stoppage tests: tenant 'acme' with line T1 and the issue's dataset."""

from __future__ import annotations

from sqlalchemy import delete, insert, select

from core import schema_tenant as t
from core.clock import ManualClock, parse_instant
from core.runtime import Runtime
from core.tenants import create_tenant
from filters.defaults import DEFAULT_FILTER_ROWS
from identity.engine_tokens import Principal, issue_token
from identity.users import create_user
from ingest.bulk_load import insert_detections
from ingest.plant_metadata import load_plant_text
from tests import stops_dataset as ds

SLUG = "acme"


def build_stops_tenant(rt: Runtime, clock: ManualClock) -> int:
    """Create the tenant, load the dataset, set the clock to the dataset's now; returns T1's id."""
    clock.set(parse_instant(ds.NOW.isoformat(), "America/Argentina/Buenos_Aires"))
    create_tenant(rt.db, SLUG, name="ACME", timezone="America/Argentina/Buenos_Aires")
    load_plant_text(rt.db, SLUG, ds.PLANT_YAML, today=ds.NOW.date())
    with rt.db.tenant(SLUG) as conn:
        line_id = conn.execute(select(t.lines.c.id).where(t.lines.c.code == "T1")).scalar()
        conn.execute(delete(t.filters_table))
        conn.execute(insert(t.filters_table), [dict(r, active=True) for r in DEFAULT_FILTER_ROWS])
        insert_detections(conn, line_id, ds.detections())
    rt.meta.invalidate(SLUG)
    return line_id


def stop_rows(rt: Runtime) -> list[tuple]:
    """Every `stops` row without its id, in order."""
    s = t.stops.c
    with rt.db.tenant(SLUG) as conn:
        rows = conn.execute(
            select(s.line_id, s.kind, s.start_ts, s.end_ts, s.duration_s, s.downtime_s,
                   s.production_date, s.shift_id, s.is_open).order_by(s.line_id, s.start_ts)
        ).all()
    return [tuple(r) for r in rows]


def token(rt: Runtime) -> dict[str, str]:
    """An admin's bearer header for tenant acme."""
    user_id = create_user(rt.db, tenant=SLUG, username="ana", password="clave-de-prueba-123", role="admin")
    return {"Authorization": "Bearer " + issue_token(rt.settings, Principal(user_id, "ana", SLUG, "admin"))}
