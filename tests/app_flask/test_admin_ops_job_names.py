""""Ejecutar ahora" sends the engine only a registered job name, quoted as one path segment:
anything else is a 422 with the operations page, and nothing runs."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.app_flask.test_admin_ops_pages import admin  # noqa: F401 - the logged-in admin fixture

FORGED = ["../x", "a/b", "%2e%2e", "../../dashboard", "gap-analysis/../partitions", "gap-analysis?x=1",
          "nada", ""]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_only_registered_job_names_reach_the_engine(auth_world, admin):  # noqa: F811
    rt = auth_world.runtime
    for name in FORGED:
        r = admin.post("/admin/operaciones/ejecutar", data={"csrf_token": admin.csrf, "trabajo": name})
        assert r.status_code == 422, name
        page = r.get_data(as_text=True)
        assert "Ese trabajo no existe." in page and 'data-job="gap-analysis"' in page, name
    with rt.db.central() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM job_runs")).scalar() == 0
        events = conn.execute(text("SELECT COUNT(*) FROM audit_log WHERE detail LIKE '%job_run%'")).scalar()
    assert events == 0
