"""POST /api/v1/stops/search and /api/v1/reports/shifts on the issue's dataset, both backends."""

from __future__ import annotations

import csv
import io
from datetime import datetime, time, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import and_, func, select

from core import schema_tenant as t
from jobs.runs import run_by_hand
from query.shift_report import ratios
from tests import stops_dataset as ds
from tests.stops_support import SLUG, build_stops_tenant, token

WINDOWS = {"manana": (time(6), time(14)), "tarde": (time(14), time(22)), "noche": (time(22), time(6))}
FILTERS = {"fecha": {"preset": "personalizado", "start": "2026-11-17", "end": "2026-11-18"}}


@pytest.fixture
def api(runtime, clock, engine_app):
    line_id = build_stops_tenant(runtime, clock)
    assert run_by_hand(runtime, "gap-analysis", SLUG)[0].status == "ok"
    client = TestClient(engine_app)
    client.headers.update(token(runtime))
    return client, line_id


def test_oee_worked_example_of_the_issue():
    r = ratios(planned=450 * 60, downtime=45 * 60, units=10_000, good=9_800, ideal_s=10_000 * 2.0,
               good_ideal_s=9_800 * 2.0)
    assert (round(r["availability"], 3), round(r["performance"], 3), round(r["quality"], 3),
            round(r["oee"], 3)) == (0.900, 0.823, 0.980, 0.726)
    assert r["performance_above_1"] is False
    assert ratios(0, 0, 0, 0, 0, 0) == {"availability": None, "performance": None,
                                        "performance_above_1": False, "quality": None, "oee": None}


def test_shift_report_equals_hand_computed_values(runtime, api):
    client, line_id = api
    res = client.post("/api/v1/reports/shifts", json={"filters": FILTERS})
    assert res.status_code == 200, res.text
    body = res.json()
    got = {(r["production_date"], r["shift"]): r for r in body["rows"]}
    assert list(got) == [(d.isoformat(), s) for d, s in ds.EXPECTED]
    table = t.detections_table(line_id)
    for (day, shift), want in ds.EXPECTED.items():
        row = got[(day.isoformat(), shift)]
        assert {k: row[k] for k in want} == want, (day, shift)
        planned, downtime, units, good = want["planned_s"], want["downtime_s"], want["units"], want["good"]
        run = planned - downtime
        assert row["run_s"] == run and row["line"] == "T1"
        assert row["availability"] == pytest.approx(run / planned)
        assert row["performance"] == (pytest.approx(units * 10 / run) if run else None)
        assert row["performance_above_1"] == bool(run and units * 10 / run > 1)
        assert row["quality"] == (pytest.approx(good / units) if units else None)
        assert row["oee"] == pytest.approx(good * 10 / planned)
        start, end = WINDOWS[shift]
        start, end = datetime.combine(day, start), datetime.combine(day, end) + timedelta(days=end <= start)
        with runtime.db.tenant(SLUG) as conn:  # independent count: plain SQL over the window
            window = and_(table.c.ts >= start, table.c.ts < end)
            count = conn.execute(select(func.count()).where(window)).scalar()
        assert count == units
    totals = body["totals"]
    assert totals["planned_s"] == sum(w["planned_s"] for w in ds.EXPECTED.values())
    assert totals["downtime_s"] == sum(w["downtime_s"] for w in ds.EXPECTED.values())
    assert totals["stops"] == 8 and totals["micro_stops"] == 2 and totals["open"] is True
    assert totals["availability"] == pytest.approx(
        (totals["planned_s"] - totals["downtime_s"]) / totals["planned_s"])
    assert totals["oee"] == pytest.approx(totals["good"] * 10 / totals["planned_s"])


def test_shift_report_as_csv_and_shift_filter(api):
    client, _ = api
    night = {**FILTERS, "turnos": [3]}
    res = client.post("/api/v1/reports/shifts", json={"filters": night}, headers={"Accept": "text/csv"})
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(res.text)))
    assert [(r["production_date"], r["shift"], r["downtime_s"], r["stops"]) for r in rows] == [
        ("2026-11-17", "noche", "2710.0", "3")]


def test_stops_search_lists_the_pieces(api):
    client, _ = api
    res = client.post("/api/v1/stops/search", json={"filters": FILTERS})
    assert res.status_code == 200, res.text
    stops = res.json()["stops"]
    assert [(s["kind"], s["start"], s["downtime_s"], s["shift"], s["open"]) for s in stops][-3:] == [
        ("stop", "2026-11-18T05:59:50", 10.0, "noche", False),
        ("stop", "2026-11-18T06:00:00", 27600.0, "manana", False),
        ("stop", "2026-11-18T14:30:00", 3600.0, "tarde", True),
    ]
    assert len(stops) == 10 and stops[0]["kind"] == "micro"


def test_bad_filters_are_a_422_and_no_token_a_401(api):
    client, _ = api
    res = client.post("/api/v1/reports/shifts", json={"filters": {"fecha": "nunca"}})
    assert res.status_code == 422 and res.json()["details"][0]["field"] == "fecha"
    assert TestClient(client.app).post("/api/v1/stops/search", json={}).status_code == 401
