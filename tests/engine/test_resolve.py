"""A request is resolved once: the run, its cache key, stops and the shift report read the filter
set once per request, from one immutable ResolvedRun."""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from app_fastapi.main import create_app
from core.errors import ValidationFailed
from engine import resolve
from engine.resolve import QuerySpec, resolve_run
from query.spec import SqlFragment
from tests.dashboard_support import bearer, demo_principal

RUN = "/api/v1/dashboard/run"


def _filters(rt) -> dict:
    today = rt.clock.now_utc().date()
    return {"fecha": {"preset": "personalizado", "start": (today - timedelta(days=1)).isoformat(),
                      "end": today.isoformat()}}


@pytest.fixture
def filter_set_loads(monkeypatch):
    """How many times the tenant's filter set is read from the database."""
    calls: list[str] = []
    real = resolve.load_filter_set

    def counted(*args, **kwargs):
        calls.append("load")
        return real(*args, **kwargs)

    monkeypatch.setattr(resolve, "load_filter_set", counted)
    return calls


def test_combine_intersects_windows_lines_and_ranges():
    day = datetime(2026, 11, 5)
    a = SqlFragment(line_ids=frozenset({1, 2, 3}), time_range=(day, day + timedelta(days=3)))
    b = SqlFragment(line_ids=frozenset({2, 3, 4}),
                    time_range=(day + timedelta(days=1), day + timedelta(days=5)),
                    time_ranges=((day + timedelta(hours=30), day + timedelta(hours=38)),
                                 (day + timedelta(hours=80), day + timedelta(hours=88))))
    spec = QuerySpec.combine([a, SqlFragment(), b])
    assert spec.window == (day + timedelta(days=1), day + timedelta(days=3))
    assert spec.line_ids == frozenset({2, 3})
    assert spec.ranges == ((day + timedelta(hours=30), day + timedelta(hours=38)),)
    assert spec.predicates == ()
    assert QuerySpec.combine([]).window is None and QuerySpec.combine([]).line_ids is None


@pytest.mark.clock
def test_a_resolved_run_is_immutable_and_complete(runtime, demo_tenant):
    run = resolve_run(runtime, demo_principal(runtime), _filters(runtime))
    assert run.tenant == demo_tenant and run.config.placements and run.config.layout_id is not None
    assert run.spec.window is not None and run.selection is not None
    assert (run.selection.start, run.selection.end) == run.spec.window
    assert run.applied_json()["fecha"]["start"].startswith(_filters(runtime)["fecha"]["start"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        run.now = run.now  # type: ignore[misc]
    with pytest.raises(TypeError):
        run.values["fecha"] = None  # type: ignore[index]


@pytest.mark.clock
def test_without_a_date_window_plant_answers_are_refused(runtime, demo_tenant):
    run = resolve_run(runtime, demo_principal(runtime), _filters(runtime), widgets=False)
    assert run.require_selection() is run.selection and run.config.placements == ()
    bare = replace(run, selection=None)  # a filter set without a date filter selects no period
    with pytest.raises(ValidationFailed) as refused:
        bare.require_selection()
    assert refused.value.details == [{"field": "filters", "message": resolve.NO_DATE_MESSAGE}]


@pytest.mark.clock
def test_a_cache_miss_reads_the_filter_set_once(runtime, demo_tenant, filter_set_loads):
    rt = replace(runtime, settings=runtime.settings.model_copy(update={"result_cache_ttl_s": 300}))
    with TestClient(create_app(rt)) as client:
        client.headers.update(bearer(rt, demo_principal(rt)))
        first = client.post(RUN, json={"filters": _filters(rt)})
        assert first.status_code == 200 and first.json()["meta"]["served"] == "computed"
        assert filter_set_loads == ["load"]  # the key and the run share one resolution
        second = client.post(RUN, json={"filters": _filters(rt)})
        assert second.status_code == 200  # a hit, or a miss if a job moved the data meanwhile
        assert filter_set_loads == ["load", "load"]


@pytest.mark.clock
def test_stops_and_the_shift_report_resolve_once(runtime, demo_tenant, filter_set_loads):
    with TestClient(create_app(runtime)) as client:
        client.headers.update(bearer(runtime, demo_principal(runtime)))
        assert client.post("/api/v1/stops/search", json={"filters": _filters(runtime)}).status_code == 200
        assert client.post("/api/v1/reports/shifts", json={"filters": _filters(runtime)}).status_code == 200
        assert client.post("/api/v1/exports/shifts", json={"filters": _filters(runtime)}).status_code == 200
    assert filter_set_loads == ["load"] * 3
