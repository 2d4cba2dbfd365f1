"""The calendar/stops migration steps upgrade a database made before them, and are idempotent."""

from __future__ import annotations

from sqlalchemy import delete, inspect, text

from core import migrations, schema_central, schema_tenant
from core.tenants import create_tenant


def _columns(conn, table: str) -> set[str]:
    return {c["name"] for c in inspect(conn).get_columns(table)}


def test_old_databases_get_the_new_columns_once(runtime):
    create_tenant(runtime.db, "acme", name="ACME")
    engine = runtime.db.tenant_engine("acme")
    with engine.begin() as conn:  # back to a v1 database (before the shift calendar)
        conn.execute(text("ALTER TABLE shifts DROP COLUMN weekdays"))
        conn.execute(text("ALTER TABLE import_batches DROP COLUMN last_ts"))
        conn.execute(delete(schema_tenant.schema_version).where(schema_tenant.schema_version.c.version > 1))
    with runtime.db.central_engine.begin() as conn:
        conn.execute(text("ALTER TABLE job_runs DROP COLUMN row_count"))
        conn.execute(delete(schema_central.schema_version).where(schema_central.schema_version.c.version > 1))
    assert migrations.upgrade_tenant(engine) == list(range(2, len(migrations.TENANT) + 1))
    central = runtime.db.central_engine
    assert migrations.upgrade_central(central) == list(range(2, len(migrations.CENTRAL) + 1))
    assert migrations.upgrade_tenant(engine) == []
    assert migrations.upgrade_central(runtime.db.central_engine) == []
    with engine.connect() as conn:
        assert "weekdays" in _columns(conn, "shifts") and "last_ts" in _columns(conn, "import_batches")
        assert {"downtime_s", "production_date", "shift_id", "is_open"} <= _columns(conn, "stops")
    with runtime.db.central_engine.connect() as conn:
        assert "row_count" in _columns(conn, "job_runs")
    with engine.begin() as conn:  # the step itself runs again without harm
        migrations._tenant_calendar_and_stops(conn)
