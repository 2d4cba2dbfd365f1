"""The query stage's state belongs to its runtime, and one statement deadline serves every reader."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select, text

from core.errors import QueryTimeout
from core.query_state import QueryState
from core.runtime import build_runtime
from core.schema_tenant import detections_table
from query.readers import available_readers, read_with_fallback
from query.readers.deadline import statement_deadline
from query.spec import SqlFragment
from tests.query_support import END, START, BrokenDriverReader, load_rows, read_context, slow_predicate


@pytest.fixture
def loaded(runtime, plant_tenant):
    return load_rows(runtime, plant_tenant)


def test_two_runtimes_keep_their_own_query_state(runtime, plant_tenant, loaded, backend, clock):
    other = build_runtime(runtime.settings, clock=clock)
    try:
        assert other.query_state is not runtime.query_state
        fallback = available_readers(backend)[-1]
        frags = [SqlFragment(time_range=(datetime(2026, 11, 1), datetime(2026, 11, 2)))]
        ctx = read_context(runtime, plant_tenant, loaded, frags)
        failures = runtime.query_state.failures
        read_with_fallback([BrokenDriverReader, fallback], ctx, key="db", failures=failures)
        assert runtime.query_state.failures.usable("db", ["broken"]) == []
        assert other.query_state.failures.usable("db", ["broken"]) == ["broken"]
        runtime.query_state.close()
        assert runtime.query_state.failures.usable("db", ["broken"]) == ["broken"]
    finally:
        other.db.dispose()


def test_engine_cache_builds_once_and_disposes_on_close(runtime):
    state = QueryState()
    built = []

    def build():
        engine = runtime.db.central_engine
        built.append(engine)
        return engine

    assert state.engines.get("k", build) is state.engines.get("k", build)
    assert len(built) == 1
    state.close()
    state.engines.get("k", build)
    assert len(built) == 2


def _session_limit(conn) -> float:
    name = "max_statement_time" if getattr(conn.dialect, "is_mariadb", False) else "max_execution_time"
    return float(conn.execute(text(f"SELECT @@SESSION.{name}")).scalar())


def test_deadline_cancels_then_resets_the_session(runtime, plant_tenant, loaded, backend):
    table = f"detections_{loaded['L1']}"
    slow = slow_predicate(backend)
    t = detections_table(loaded["L1"])
    stmt = select(func.count()).select_from(t).where(slow(t), t.c.ts >= START, t.c.ts < END)
    with runtime.db.tenant(plant_tenant) as conn:
        before = _session_limit(conn) if backend == "mysql" else None
        with pytest.raises(QueryTimeout) as err, statement_deadline(0.3, conn):
            conn.execute(stmt).scalar()
        assert err.value.status_code == 504
        if backend == "mysql":
            assert _session_limit(conn) == before  # the limit does not leak to the next statement
        # No deadline left behind: a plain statement on the same connection still runs.
        assert conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar() > 0
