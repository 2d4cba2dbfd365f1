"""A repeated dashboard run reuses SQLAlchemy's compiled statements.

Each statement SQLAlchemy cannot find in an engine's compiled cache is compiled again and kept
there (500 entries per engine): when statements named fresh Table objects every run, each run
missed, and a burst of runs left ~100 MB of compiled copies alive after it ended.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine

from app_fastapi.main import create_app
from rollups.job import roll_tenant
from tests.dashboard_support import bearer, demo_principal

RUN = "/api/v1/dashboard/run"


class CompileCounter:
    """Counts executions whose statement was compiled (a cache miss) on every engine."""

    def __init__(self) -> None:
        self.misses: list[str] = []
        self.executions = 0

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        self.executions += 1
        if context is not None and context.cache_hit is context.dialect.CACHE_MISS:
            self.misses.append(statement.split("\n")[0][:120])


@pytest.mark.clock
@pytest.mark.parametrize("preset", ["hoy", "ultimos_7_dias"])
def test_a_repeated_run_compiles_no_statement(runtime, demo_tenant, preset):
    rt = replace(runtime, settings=runtime.settings.model_copy(update={"result_cache_ttl_s": 0}))
    roll_tenant(rt, demo_tenant)
    body = {"filters": {"fecha": {"preset": preset}}}
    counter = CompileCounter()
    with TestClient(create_app(rt)) as client:
        client.headers.update(bearer(rt, demo_principal(rt)))
        first = client.post(RUN, json=body)
        assert first.status_code == 200, first.text
        event.listen(Engine, "before_cursor_execute", counter)
        try:
            second = client.post(RUN, json=body)
        finally:
            event.remove(Engine, "before_cursor_execute", counter)
    assert second.status_code == 200 and second.json()["meta"]["served"] == "computed"
    assert [w["data"] for w in second.json()["widgets"]] == [w["data"] for w in first.json()["widgets"]]
    assert counter.executions > 3  # the run did read the database
    assert counter.misses == []
