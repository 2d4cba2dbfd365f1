"""Units per shift instance through filter → query → master frame and POST /api/v1/dashboard/run,
against plain SQL COUNT over hand-written windows (SQLite and MariaDB).

The plant is in Europe/Madrid (DST) with the demo shifts (06–14, 14–22, 22–06) and production
days from 06:00. Rows every 7 minutes around four hard places: the spring-forward night
(28→29 March 2026, 7 real hours), the fall-back night (24→25 October, 9 real hours, its repeated
02:xx hour stored twice), a month end (31 Oct → 1 Nov) and a year end (31 Dec 2026 → 1 Jan 2027).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select

from app_fastapi.main import create_app
from core import schema_tenant as t
from core.clock import parse_instant, plant_now
from core.detection_tables import ensure_line_table
from core.rollups_state import mark_rollups_dirty
from core.tenants import create_tenant
from filters import build_filter_set
from filters.defaults import DEFAULT_FILTER_ROWS
from ingest.plant_metadata import load_plant_file
from query.master_frame import build_master_frame
from tests.conftest import DEMO_PLANT
from tests.dashboard_support import bearer, demo_principal

TZ = "Europe/Madrid"
SPANS = [(date(2026, 3, 27), date(2026, 3, 31)), (date(2026, 10, 23), date(2026, 11, 3)),
         (date(2026, 12, 29), date(2027, 1, 3))]
STEP = timedelta(minutes=7)
BOUNDARIES = ("05:59:59.999", "06:00:00", "13:59:59.999", "14:00:00", "21:59:59.999", "22:00:00",
              "00:00:00", "23:59:59.999")


def _rows(product_id: int) -> list[dict]:
    rows = []
    for first, last in SPANS:
        ts = datetime.combine(first, datetime.min.time()) + timedelta(seconds=41)
        while ts.date() < last:
            if not (ts.date() == date(2026, 3, 29) and 2 <= ts.hour < 3):  # that hour does not exist
                rows.append({"ts": ts, "seq": 0, "product_id": product_id, "weight_g": 45.0, "status": 0})
            if ts.date() == date(2026, 10, 25) and ts.hour == 2:  # the hour that happens twice
                rows.append({"ts": ts, "seq": 1, "product_id": product_id, "weight_g": 45.0, "status": 0})
            ts += STEP
        day = first
        while day < last:
            for hhmmss in BOUNDARIES:
                moment = datetime.fromisoformat(f"{day.isoformat()}T{hhmmss}")
                rows.append({"ts": moment, "seq": 2, "product_id": product_id, "weight_g": 45.0, "status": 0})
            day += timedelta(days=1)
    return rows


@pytest.fixture
def madrid(runtime):
    """Tenant 'mad' (Europe/Madrid, demo plant) with rows on line L1; returns (slug, L1 id)."""
    create_tenant(runtime.db, "mad", name="Madrid", timezone=TZ)
    today = runtime.clock.now_utc().date()
    load_plant_file(runtime.db, "mad", DEMO_PLANT, today=today)
    meta = runtime.meta.get("mad")
    line = meta.line_by_code("L1")
    months = [date(2026, 3, 1), date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1)]
    with runtime.db.tenant("mad") as conn:
        ensure_line_table(conn, line.id, months, today=today)
    with runtime.db.tenant("mad") as conn:
        conn.execute(insert(t.detections_table(line.id)), _rows(min(meta.products_by_line[line.id])))
    return "mad", line.id


def sql_count(rt, slug: str, line_id: int, start: datetime, end: datetime) -> int:
    table = t.detections_table(line_id)
    with rt.db.tenant(slug) as conn:
        return conn.execute(
            select(func.count()).select_from(table).where(table.c.ts >= start, table.c.ts < end)
        ).scalar()


def run(rt, slug: str, raw: dict) -> pd.DataFrame:
    """The master frame of one filter selection (the dashboard's own path)."""
    meta = rt.meta.get(slug)
    fs = build_filter_set([dict(r, id=i) for i, r in enumerate(DEFAULT_FILTER_ROWS)], meta, rt.clock)
    values = fs.validate(raw)
    return build_master_frame(rt, slug, fs.fragments(values), {"ts", "shift_code", "shift_date"}).frame


def per_instance(frame: pd.DataFrame) -> dict[tuple[str, str], int]:
    counts = frame.groupby(["shift_date", "shift_code"], observed=True).size()
    return {(d.strftime("%Y-%m-%d"), code): int(n) for (d, code), n in counts.items() if n}


def dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


# (production days, shifts, {(production date, shift): exact window})
CASES = [
    (("2026-03-28", "2026-03-28"), ["noche"],
     {("2026-03-28", "noche"): ("2026-03-28T22:00", "2026-03-29T06:00")}),
    (("2026-10-24", "2026-10-24"), ["noche"],
     {("2026-10-24", "noche"): ("2026-10-24T22:00", "2026-10-25T06:00")}),
    (("2026-10-30", "2026-11-01"), ["manana", "noche"], {
        ("2026-10-30", "manana"): ("2026-10-30T06:00", "2026-10-30T14:00"),
        ("2026-10-30", "noche"): ("2026-10-30T22:00", "2026-10-31T06:00"),
        ("2026-10-31", "manana"): ("2026-10-31T06:00", "2026-10-31T14:00"),
        ("2026-10-31", "noche"): ("2026-10-31T22:00", "2026-11-01T06:00"),
        ("2026-11-01", "manana"): ("2026-11-01T06:00", "2026-11-01T14:00"),
        ("2026-11-01", "noche"): ("2026-11-01T22:00", "2026-11-02T06:00"),
    }),
    (("2026-12-31", "2027-01-01"), ["tarde", "noche"], {
        ("2026-12-31", "tarde"): ("2026-12-31T14:00", "2026-12-31T22:00"),
        ("2026-12-31", "noche"): ("2026-12-31T22:00", "2027-01-01T06:00"),
        ("2027-01-01", "tarde"): ("2027-01-01T14:00", "2027-01-01T22:00"),
        ("2027-01-01", "noche"): ("2027-01-01T22:00", "2027-01-02T06:00"),
    }),
]


@pytest.mark.parametrize(("days", "shifts", "windows"), CASES,
                         ids=["spring", "fall", "month-end", "year-end"])
def test_units_per_shift_instance_equal_sql_over_the_exact_window(runtime, madrid, days, shifts, windows):
    slug, line_id = madrid
    meta = runtime.meta.get(slug)
    frame = run(runtime, slug, {"fecha": {"start": days[0], "end": days[1]},
                                "turnos": [meta.shifts_by_code[c].id for c in shifts]})
    expected = {key: sql_count(runtime, slug, line_id, dt(a), dt(b)) for key, (a, b) in windows.items()}
    assert min(expected.values()) > 50
    assert per_instance(frame) == expected
    assert len(frame) == sum(expected.values())


def test_dst_nights_hold_the_real_hours(runtime, madrid):
    """The spring night lost an hour of rows, the autumn night holds one twice."""
    slug, line_id = madrid
    spring = sql_count(runtime, slug, line_id, dt("2026-03-28T22:00"), dt("2026-03-29T06:00"))
    plain = sql_count(runtime, slug, line_id, dt("2026-03-29T22:00"), dt("2026-03-30T06:00"))
    fall = sql_count(runtime, slug, line_id, dt("2026-10-24T22:00"), dt("2026-10-25T06:00"))
    assert spring < plain < fall


@pytest.mark.clock
@pytest.mark.parametrize("now", ["2027-01-01T03:00", "2026-11-01T05:59", "2026-10-25T02:30"])
def test_ayer_plus_noche_is_one_night_and_hoy_starts_at_six(runtime, madrid, clock, now):
    slug, line_id = madrid
    clock.set(parse_instant(now, TZ))
    wall = plant_now(clock, TZ)
    today = (wall - timedelta(hours=6)).date()  # production days start at 06:00
    yesterday = today - timedelta(days=1)
    night = runtime.meta.get(slug).shifts_by_code["noche"].id
    frame = run(runtime, slug, {"fecha": "ayer", "turnos": [night]})
    start = datetime.combine(yesterday, datetime.min.time()) + timedelta(hours=22)
    assert set(per_instance(frame)) == {(yesterday.isoformat(), "noche")}
    assert len(frame) == sql_count(runtime, slug, line_id, start, start + timedelta(hours=8)) > 50
    hoy = run(runtime, slug, {"fecha": "hoy"})
    day_start = datetime.combine(today, datetime.min.time()) + timedelta(hours=6)
    assert len(hoy) == sql_count(runtime, slug, line_id, day_start, day_start + timedelta(days=1))
    current = run(runtime, slug, {"fecha": "turno_actual", "turnos": [night]})
    assert set(per_instance(current)) == {(today.isoformat(), "noche")}


@pytest.mark.clock
def test_dashboard_run_ayer_noche_and_day_buckets(runtime, demo_tenant):
    """POST /api/v1/dashboard/run: rows, KPI and production-day buckets equal plain SQL."""
    meta = runtime.meta.get(demo_tenant)
    wall = plant_now(runtime.clock, meta.timezone)
    today = (wall - timedelta(hours=6)).date()
    night = datetime.combine(today - timedelta(days=1), datetime.min.time()) + timedelta(hours=22)
    line_ids = sorted(meta.lines)
    # The demo keeps only its latest rows: add a sparse history around yesterday's night (seq 99).
    first = night - timedelta(hours=4)
    extra = [{"ts": first + k * STEP, "seq": 99, "product_id": min(meta.products_by_line[line_ids[0]]),
              "weight_g": 45.0, "status": 0} for k in range(16 * 60 // 7)]
    with runtime.db.tenant(demo_tenant) as conn:  # as every writer does: rolled buckets to redo
        mark_rollups_dirty(conn, line_ids[0], extra[0]["ts"], extra[-1]["ts"])
        conn.execute(insert(t.detections_table(line_ids[0])), extra)
    with TestClient(create_app(runtime)) as client:
        client.headers.update(bearer(runtime, demo_principal(runtime)))
        body = client.post("/api/v1/dashboard/run", json={"filters": {
            "fecha": "ayer", "turnos": [meta.shifts_by_code["noche"].id]}}).json()
        week = client.post("/api/v1/dashboard/run", json={"filters": {"fecha": "ultimos_7_dias"}}).json()
    expected = sum(sql_count(runtime, demo_tenant, i, night, night + timedelta(hours=8)) for i in line_ids)
    assert body["meta"]["rows"] == expected > 50
    kpis = {w["data"]["metric"]: w["data"]["value"] for w in body["widgets"] if w["class"] == "KpiWidget"}
    assert kpis["units"] == expected
    [series] = [w["data"]["data"] for w in week["widgets"] if w["class"] == "ProductionOverTimeWidget"]
    assert series["labels"][-1] == today.isoformat()
    for i, label in enumerate(series["labels"]):
        lo = datetime.fromisoformat(label) + timedelta(hours=6)
        total = sum(sql_count(runtime, demo_tenant, j, lo, lo + timedelta(days=1)) for j in line_ids)
        assert sum(d["data"][i] for d in series["datasets"]) == total, label
