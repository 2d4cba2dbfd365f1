"""Operations API: job runs and "run now", partitions, rows that fail to load, data freshness.

Every number is checked against plain SQL over the same tables.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, text

from cli.defaults import install_tenant_defaults
from core import schema_tenant as t
from core.db import is_mysql
from core.partitions import existing_partitions
from identity.audit import list_events
from identity.users import find_user
from ingest.csv_import import import_detections

pytestmark = pytest.mark.clock  # partitions and freshness follow the clock

CSV = """ts,product_code,weight_g,status
2026-11-17T10:00:00,PF-045,45.2,ok
2026-11-18T14:59:30.250,PF-090,90.3,ok
"""


@pytest.fixture
def admin(auth_world, engine_app, tmp_path):
    rt = auth_world.runtime
    install_tenant_defaults(rt, "acme", replace=True)
    path = tmp_path / "l1.csv"
    path.write_text(CSV)
    import_detections(rt.db, rt.meta.get("acme"), "L1", path, clock=rt.clock)
    return TestClient(engine_app, headers=auth_world.auth("ana"))


def test_freshness_partitions_and_broken_rows(auth_world, admin):
    rt = auth_world.runtime
    meta = rt.meta.get("acme")
    with rt.db.tenant("acme") as conn:
        conn.execute(insert(t.filters_table).values(class_name="os.system", param_name="roto", label="Roto",
                                                    config={}, sort_order=99, active=True))
        conn.execute(insert(t.widget_catalog).values(class_name="NoExiste", title="Fantasma", config={},
                                                     sort_order=99, active=True))
        last = conn.execute(text(f"SELECT MAX(ts) FROM detections_{meta.line_by_code('L1').id}")).scalar()
        mysql = is_mysql(conn.engine.url)
        names = {ln.code: existing_partitions(conn, f"detections_{ln.id}") for ln in meta.lines.values()
                 } if mysql else {}
    body = admin.get("/api/v1/admin/operations").json()
    fresh = {f["line_code"]: f for f in body["freshness"]}
    assert str(last).replace(" ", "T").startswith(fresh["L1"]["last_detection"][:19])
    newest_utc = datetime(2026, 11, 18, 17, 59, 30, 250000, tzinfo=UTC)  # 14:59:30.250 plant time
    assert fresh["L1"]["age_s"] == pytest.approx((rt.clock.now_utc() - newest_utc).total_seconds(), abs=0.01)
    assert fresh["L2"]["last_detection"] is None and fresh["L2"]["age_s"] is None
    assert sorted(fresh) == sorted(meta.lines_by_code)
    broken = {(b["kind"], b["name"]) for b in body["broken_rows"]}
    assert broken == {("filter", "Roto"), ("widget", "Fantasma")}
    assert all(b["error"] for b in body["broken_rows"])
    if mysql:
        got = {p["line_code"]: [x["name"] for x in p["partitions"]] for p in body["partitions"]}
        assert got == names and "p202611" in got["L1"]
    else:
        assert body["partitions"] is None


def test_run_now_records_a_job_run_and_is_audited(auth_world, admin):
    rt = auth_world.runtime
    r = admin.post("/api/v1/admin/jobs/gap-analysis/run")
    assert r.status_code == 202, r.text
    deadline, rows = time.monotonic() + 60, []
    while time.monotonic() < deadline:
        with rt.db.central() as conn:
            rows = conn.execute(text("SELECT id, status, row_count FROM job_runs "
                                     "WHERE job_id = 'gap-analysis' AND tenant_slug = 'acme'")).all()
        if rows and rows[0][1] != "running":
            break
        time.sleep(0.05)
    assert len(rows) == 1 and rows[0][1] == "ok", rows
    runs = admin.get("/api/v1/admin/operations").json()["runs"]
    assert [(x["id"], x["job"], x["status"], x["rows"]) for x in runs] == [
        (rows[0][0], "gap-analysis", "ok", rows[0][2])]
    assert runs[0]["duration_s"] is not None and runs[0]["duration_s"] >= 0
    tid = find_user(rt.db, tenant="acme", username="ana").tenant_id
    assert any(e.detail.get("what") == "job_run" and e.detail["after"] == {"job": "gap-analysis"}
               for e in list_events(rt.db, tenant_id=tid) if isinstance(e.detail, dict))
    assert admin.post("/api/v1/admin/jobs/no-such-job/run").status_code == 404
    assert admin.post("/api/v1/admin/jobs/DROP TABLE/run").status_code == 422
    with rt.db.central() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM job_runs")).scalar() == 1
