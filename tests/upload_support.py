"""CSV uploads through the engine API, shared by the upload, page, browser and disk-fault tests."""

from __future__ import annotations

import time

from sqlalchemy import text

GOOD = """ts,product_code,weight_g,status
2026-11-17T10:00:00,PF-045,45.2,ok
2026-11-17T10:00:01,PF-045,44.1,reject
2026-11-17T10:00:01,PF-090,90.3,ok
2026-11-18T09:00:00,PF-150,,ok
"""


ONE_BAD = GOOD + "2026-11-18T09:00:01,NOPE,45,ok\n2026-11-18T09:00:02,PF-045,45,ok\n"


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
