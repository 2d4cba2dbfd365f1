"""Browser-upload API: a CSV streamed to the engine imports in the background, all or nothing.

Checked against the tables themselves (plain SQL counts before and after) and the audit log.
"""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from identity.audit import list_events
from identity.users import find_user

# `clock` marks only the tests whose outcome follows the date (partitions, presets, demo data).

GOOD = """ts,product_code,weight_g,status
2026-11-17T10:00:00,PF-045,45.2,ok
2026-11-17T10:00:01,PF-045,44.1,reject
2026-11-17T10:00:01,PF-090,90.3,ok
2026-11-18T09:00:00,PF-150,,ok
"""
ONE_BAD = GOOD + "2026-11-18T09:00:01,NOPE,45,ok\n2026-11-18T09:00:02,PF-045,45,ok\n"


@pytest.fixture
def admin(auth_world, engine_app):
    client = TestClient(engine_app)
    client.headers.update(auth_world.auth("ana"))
    return client


def line_count(rt, code="L1"):
    line_id = rt.meta.get("acme").line_by_code(code).id
    with rt.db.tenant("acme") as conn:
        if not conn.dialect.has_table(conn, f"detections_{line_id}"):
            return 0
        return conn.execute(text(f"SELECT COUNT(*) FROM detections_{line_id}")).scalar()


def send(client, body: str, line="L1", filename="datos.csv"):
    return client.post("/api/v1/admin/uploads", params={"line": line, "filename": filename},
                       content=body.encode(), headers={"Content-Type": "text/csv"})


def finished(client, upload_id: int) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = client.get(f"/api/v1/admin/uploads/{upload_id}").json()
        if state["status"] in ("done", "rejected", "error"):
            return state
        time.sleep(0.05)
    raise AssertionError("the import did not finish")


def uploads_left(rt) -> list[str]:
    folder = rt.settings.var_dir / "uploads"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.mark.clock
def test_good_csv_imports_in_the_background_and_is_audited(auth_world, admin):
    rt = auth_world.runtime
    r = send(admin, GOOD, filename="../../etc/turno.csv")
    assert r.status_code == 202, r.text
    assert r.json()["filename"] == "turno.csv"
    state = finished(admin, r.json()["id"])
    assert state["status"] == "done", state
    progress = (state["rows_inserted"], state["percent"], state["rows_done"], state["rows_total"])
    assert progress == (4, 100, 4, 4)
    assert line_count(rt) == 4
    assert uploads_left(rt) == []
    tid = find_user(rt.db, tenant="acme", username="ana").tenant_id
    whats = [(e.detail["what"], e.detail["op"]) for e in list_events(rt.db, tenant_id=tid)
             if e.action == "admin_edit"]
    assert ("csv_upload", "create") in whats and ("csv_import", "done") in whats
    listed = admin.get("/api/v1/admin/uploads").json()
    assert [u["id"] for u in listed] == [state["id"]]


def test_one_bad_row_imports_nothing_and_names_its_line(auth_world, admin):
    rt = auth_world.runtime
    state = finished(admin, send(admin, ONE_BAD).json()["id"])
    assert state["status"] == "rejected"
    assert state["bad_rows"] == ["línea 6: product_code desconocido"]
    assert "no se importó nada" in state["message"]
    assert line_count(rt) == 0
    assert uploads_left(rt) == []


def test_refusals_before_the_import(auth_world, admin, engine_app):
    rt = auth_world.runtime
    assert send(admin, GOOD, line="L9").status_code == 422
    assert send(admin, "").status_code == 422
    assert send(admin, GOOD, line="x" * 33).status_code == 422
    assert admin.get("/api/v1/admin/uploads/999").status_code == 404
    assert admin.get(f"/api/v1/admin/uploads/{2**63}").status_code == 422
    assert line_count(rt) == 0 and uploads_left(rt) == []
    zeta = TestClient(engine_app, headers=auth_world.auth("zed"))
    own = finished(admin, send(admin, GOOD).json()["id"])
    assert zeta.get(f"/api/v1/admin/uploads/{own['id']}").status_code == 404


@pytest.mark.settings(upload_max_bytes=1024)
def test_a_file_over_the_limit_is_refused_by_length_and_by_stream(auth_world, admin):
    rt = auth_world.runtime
    big = GOOD + "2026-11-18T09:00:01,PF-045,45,ok\n" * 40
    assert len(big) > 1024
    r = send(admin, big)
    assert r.status_code == 413 and r.json()["error"] == "too_large"

    def chunks():
        for i in range(0, len(big), 100):
            yield big[i:i + 100].encode()

    r = admin.post("/api/v1/admin/uploads", params={"line": "L1"}, content=chunks(),
                   headers={"Content-Type": "text/csv"})
    assert r.status_code == 413
    assert line_count(rt) == 0 and uploads_left(rt) == []
