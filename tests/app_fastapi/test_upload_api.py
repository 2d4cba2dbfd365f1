"""Browser-upload API: a CSV streamed to the engine imports in the background, all or nothing.

Checked against the tables themselves (plain SQL counts before and after) and the audit log.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from identity.audit import list_events
from identity.users import find_user
from tests.upload_support import GOOD, ONE_BAD, finished, line_count, send

# `clock` marks only the tests whose outcome follows the date (partitions, presets, demo data).

@pytest.fixture
def admin(auth_world, engine_app):
    client = TestClient(engine_app)
    client.headers.update(auth_world.auth("ana"))
    return client


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
