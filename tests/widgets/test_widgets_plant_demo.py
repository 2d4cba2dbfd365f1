"""The plant widgets on the seeded demo plant, each figure recomputed with plain SQL (both backends).

Planned time comes from the shift calendar (its definition); every count and sum comes from
plain SQL over the detection tables and `stops`, never from the code under test.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app_fastapi.main import create_app
from cli.demo import DEMO_PLANT, DEMO_SLUG, DEMO_TZ, seed_demo_tenant
from core.clock import plant_now
from core.shift_calendar import shift_instances
from core.tenants import create_tenant
from ingest.plant_metadata import load_plant_file
from tests.dashboard_support import (
    DEMO_DAY_START,
    bearer,
    days_back_to,
    demo_principal,
    last_complete_day,
    line_ids,
    move_to_last_worked_moment,
    write_manifest,
)
from tests.helpers import DEMO_TEST_ROWS, reused_password_hashes
from tests.provider_server import ProviderServer

# The demo plant is seeded up to "now". The tests read the last complete worked day and the last
# worked shift, both derived from the shift calendar, so they hold on clock edges where the plant
# does not work (a Sunday, a closed day).
pytestmark = pytest.mark.clock

RUN = "/api/v1/dashboard/run"
BAND_BOUNDS = ((60, "> 60 min"), (30, "30–60 min"), (15, "15–30 min"), (5, "5–15 min"), (0, "< 5 min"))


@pytest.fixture
def demo_tenant(runtime):
    """The demo tenant with its history starting inside the last complete worked day: one day
    of it on a working day, more after a Sunday or a closed day (same number of detections)."""
    create_tenant(runtime.db, DEMO_SLUG, name="Alimentos del Sur (demo)", timezone=DEMO_TZ)
    load_plant_file(runtime.db, DEMO_SLUG, DEMO_PLANT, today=runtime.clock.now_utc().date())
    meta = runtime.meta.get(DEMO_SLUG)
    now = plant_now(runtime.clock, meta.timezone)
    days = days_back_to(meta, now, last_complete_day(meta, now))
    with reused_password_hashes():
        seed_demo_tenant(runtime, days=days, rows=DEMO_TEST_ROWS, quiet=True, rollups=False)
    return DEMO_SLUG


@pytest.fixture
def engine(runtime, demo_tenant, tmp_path):
    with ProviderServer(slow_s=0.0) as provider:
        runtime.settings.external_apis_file = write_manifest(tmp_path / "apis.yml", provider.url("/fx"))
        with TestClient(create_app(runtime)) as client:
            client.headers.update(bearer(runtime, demo_principal(runtime)))
            yield client


def _dt(value) -> datetime:  # noqa: ANN001 - SQLite gives text, MariaDB datetimes
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def sql_truth(runtime, slug: str, day: date) -> dict:
    """Per (line code, shift code) of one past production day: planned, stops and units by SQL."""
    meta = runtime.meta.get(slug)
    now = plant_now(runtime.clock, meta.timezone)
    out: dict = {"rows": {}, "stops": []}
    with runtime.db.tenant(slug) as conn:
        for line in sorted((ln for ln in meta.lines.values() if ln.active), key=lambda ln: ln.code):
            for inst in shift_instances(meta, line.id, day, day):
                assert inst.end <= now, "the chosen day must be over"
                units, rejects = conn.execute(text(
                    f"SELECT COUNT(*), SUM(CASE WHEN status = 1 THEN 1 ELSE 0 END) FROM detections_{line.id} "
                    "WHERE ts >= :lo AND ts < :hi"), {"lo": inst.start, "hi": inst.end}).one()
                stops = conn.execute(text(
                    "SELECT kind, start_ts, end_ts, downtime_s, is_open FROM stops "
                    "WHERE line_id = :line AND production_date = :day AND shift_id = :shift"),
                    {"line": line.id, "day": day, "shift": inst.shift_id}).all()
                assert not any(s.is_open for s in stops)
                shift = meta.shifts[inst.shift_id].code
                out["rows"][(line.code, shift)] = {
                    "planned": inst.planned_s, "units": int(units), "good": int(units) - int(rejects or 0),
                    "down": sum(float(s.downtime_s) for s in stops),
                    "stops": sum(s.kind == "stop" for s in stops),
                    "micro": sum(s.kind == "micro" for s in stops),
                    "cycle": line.ideal_cycle_s, "name": line.name, "ideal_h": line.ideal_rate_per_min * 60,
                }
                out["stops"] += [{"line": line.name, "kind": s.kind, "minutes": float(s.downtime_s) / 60,
                                  "length": (_dt(s.end_ts) - _dt(s.start_ts)).total_seconds() / 60}
                                 for s in stops]
    return out


def _sum(rows, key: str) -> float:
    return sum(r[key] for r in rows)


def _band(minutes: float) -> str:
    return next(label for bound, label in BAND_BOUNDS if minutes >= bound)


def _widgets(body: dict) -> dict[str, dict]:
    """Data of the product's own widgets by title (each must have data, not an error)."""
    out = {}
    for w in body["widgets"]:
        if w["source"] != "external":
            assert w.get("error") is None, (w["title"], w["error"])
            out[w["title"]] = w["data"]
    return out


def test_plant_and_frame_widgets_equal_plain_sql_on_the_demo_plant(runtime, demo_tenant, engine):
    meta = runtime.meta.get(demo_tenant)
    first = last_complete_day(meta, plant_now(runtime.clock, meta.timezone))
    fecha = {"preset": "personalizado", "start": first.isoformat(), "end": first.isoformat()}
    res = engine.post(RUN, json={"filters": {"fecha": fecha}})
    assert res.status_code == 200, res.text
    got = _widgets(res.json())
    truth = sql_truth(runtime, demo_tenant, first)
    rows = list(truth["rows"].values())
    planned, down, units, good = (_sum(rows, k) for k in ("planned", "down", "units", "good"))
    run = planned - down
    stops, micro = _sum(rows, "stops"), _sum(rows, "micro")
    assert units > 1000 and stops > 0

    ideal = sum(r["units"] * r["cycle"] for r in rows)
    good_ideal = sum(r["good"] * r["cycle"] for r in rows)
    assert got["OEE"]["value"] == pytest.approx(100 * good_ideal / planned, abs=1e-9)
    assert got["Disponibilidad"]["value"] == pytest.approx(100 * run / planned, abs=1e-9)
    assert got["Rendimiento"]["value"] == pytest.approx(100 * ideal / run, abs=1e-9)
    assert got["Calidad"]["value"] == pytest.approx(100 * good / units, abs=1e-9)
    assert got["OEE"]["previous"] is None  # the day before the demo data has no record

    assert got["Paradas"]["value"] == stops
    assert got["Micro-paradas"]["value"] == micro
    assert got["Minutos detenidos"]["value"] == pytest.approx(down / 60, abs=1e-9)
    assert got["MTBF"]["value"] == pytest.approx(run / stops / 60, abs=1e-9)
    assert got["MTTR"]["value"] == pytest.approx(down / stops / 60, abs=1e-9)

    def pareto(title: str) -> dict[str, float]:
        data = got[title]["data"]
        assert data["datasets"][1]["data"][-1] == pytest.approx(100.0)
        values = data["datasets"][0]["data"]
        assert values == sorted(values, reverse=True)
        return dict(zip(data["labels"], values, strict=True))

    real = [s for s in truth["stops"] if s["kind"] == "stop"]
    by_line: dict[str, float] = {}
    by_band: dict[str, float] = {}
    for s in real:
        by_line[s["line"]] = by_line.get(s["line"], 0.0) + s["minutes"]
        by_band[_band(s["length"])] = by_band.get(_band(s["length"]), 0.0) + s["minutes"]
    line_pareto = pareto("Minutos de parada por línea (Pareto)")
    assert line_pareto == pytest.approx({k: v for k, v in by_line.items() if v > 0}, abs=1e-9)
    assert pareto("Minutos de parada por duración (Pareto)") == pytest.approx(
        {k: v for k, v in by_band.items() if v > 0}, abs=1e-9)
    by_reason = pareto("Minutos de parada por motivo (Pareto)")
    assert by_reason == pytest.approx({"Sin motivo": down / 60}, abs=1e-9)

    table = got["Comparación de turnos"]
    by_shift: dict[str, list] = {}
    for (_line, shift), r in truth["rows"].items():
        by_shift.setdefault(shift, []).append(r)
    names = {s.code: s.name for s in runtime.meta.get(demo_tenant).shifts.values()}
    assert len(table["rows"]) == len(by_shift)
    for day, name, n, _target, oee, reject, _mark in table["rows"]:
        group = by_shift[next(code for code, nm in names.items() if nm == name)]
        assert day == first.isoformat()
        assert n == _sum(group, "units")
        assert oee == pytest.approx(100 * sum(r["good"] * r["cycle"] for r in group) / _sum(group, "planned"),
                                    abs=1e-9)
        assert reject == (pytest.approx(100 * (n - _sum(group, "good")) / n, abs=1e-9) if n else None)
    oees = [r[4] for r in table["rows"]]
    assert table["row_marks"][oees.index(max(oees))] == "best"
    assert table["row_marks"][oees.index(min(oees))] == "worst"

    rate = got["Ritmo real vs. ideal por línea"]["data"]
    for i, label in enumerate(rate["labels"]):
        group = [r for r in rows if r["name"] == label]
        n, p, d = _sum(group, "units"), _sum(group, "planned"), _sum(group, "down")
        assert rate["datasets"][0]["data"][i] == pytest.approx(n * 3600 / (p - d), abs=1e-9)
        assert rate["datasets"][1]["data"][i] == pytest.approx(n * 3600 / p, abs=1e-9)
        assert rate["datasets"][2]["data"][i] == group[0]["ideal_h"]

    timeline = got["Marcha y paradas por línea"]
    for kind in ("stop", "micro"):
        drawn = [p for p in timeline["periods"] if p["kind"] == kind]
        assert len(drawn) == sum(s["kind"] == kind for s in truth["stops"])
    stopped = [(p["lane"], p["start"], p["end"]) for p in timeline["periods"]
               if p["kind"] in ("stop", "micro")]
    for p in timeline["periods"]:
        if p["kind"] == "run":  # running never overlaps a stop of its own line
            assert not any(lane == p["lane"] and p["start"] < e and s < p["end"] for lane, s, e in stopped)
    run_minutes = sum(p["minutes"] for p in timeline["periods"] if p["kind"] == "run")
    assert run_minutes <= planned / 60 + 1e-6

    check_frame_widgets(runtime, demo_tenant, first, got)


def test_default_dashboard_today_has_14_plant_widgets_and_the_line_status_equals_sql(
        runtime, demo_tenant, engine):
    move_to_last_worked_moment(runtime, demo_tenant)
    res = engine.post(RUN, json={"filters": {"fecha": {"preset": "hoy"}}})
    assert res.status_code == 200, res.text
    widgets = res.json()["widgets"]
    # external sources may time out on a loaded machine; the product's own widgets never error
    assert [w["title"] for w in widgets if w.get("error") and w["source"] != "external"] == []
    assert sum(w.get("error") is None and w.get("data") is not None for w in widgets) >= 14
    plant = [w for w in widgets if w["source"] == "plant"]
    assert len(plant) >= 14 and all(w["data"] != {"empty": True} for w in plant)

    status = _widgets(res.json())["Estado de las líneas ahora"]
    meta = runtime.meta.get(demo_tenant)
    now = plant_now(runtime.clock, meta.timezone)
    minute = now.hour * 60 + now.minute
    shift = next(sh for sh in meta.shifts.values() if sh.contains_minute(minute))
    after_midnight = shift.crosses_midnight and minute < shift.end_minute
    day = now.date() - timedelta(days=1) if after_midnight else now.date()
    shift_start = datetime.combine(day, shift.start)
    targets = {"L1": 20000 if shift.code == "noche" else 22000, "L2": 14500, "L3": 11000, "L4": 4400}
    with runtime.db.tenant(demo_tenant) as conn:
        for entry in status["lines"]:
            line = meta.lines_by_code[entry["code"]]
            last, count = conn.execute(text(
                f"SELECT MAX(ts), SUM(CASE WHEN ts >= :start THEN 1 ELSE 0 END) FROM detections_{line.id} "
                "WHERE ts <= :now"), {"start": shift_start, "now": now}).one()
            assert datetime.fromisoformat(entry["last_detection"]) == _dt(last)
            assert entry["units_shift"] == int(count or 0)
            assert entry["shift"] == shift.name
            target = targets[entry["code"]]
            assert entry["target"] == target
            assert entry["progress_pct"] == pytest.approx(100 * int(count or 0) / target, abs=1e-9)



def frame_truth(runtime, slug: str, day: date) -> dict:
    """Per product units, grams, rejects and weight-control sums, plus every timestamp, by SQL."""
    lo = datetime.combine(day, datetime.min.time()) + DEMO_DAY_START
    hi = lo + timedelta(days=1)
    products: dict[str, dict] = {}
    stamps: list[datetime] = []
    with runtime.db.tenant(slug) as conn:
        for line_id in line_ids(runtime, slug):
            rows = conn.execute(text(
                "SELECT p.name, COUNT(*), SUM(d.weight_g), SUM(CASE WHEN d.status = 1 THEN 1 ELSE 0 END), "
                "SUM(CASE WHEN d.status <> 1 AND d.weight_g IS NOT NULL THEN 1 ELSE 0 END), "
                "SUM(CASE WHEN d.status <> 1 AND d.weight_g IS NOT NULL THEN d.weight_g ELSE 0 END), "
                "SUM(CASE WHEN d.status <> 1 AND d.weight_g IS NOT NULL "
                "    THEN d.weight_g * d.weight_g ELSE 0 END), "
                "SUM(CASE WHEN d.status <> 1 AND d.weight_g < p.nominal_weight_g THEN 1 ELSE 0 END), "
                "MAX(p.nominal_weight_g) "
                f"FROM detections_{line_id} d JOIN products p ON p.id = d.product_id "
                "WHERE d.ts >= :lo AND d.ts < :hi GROUP BY p.name"), {"lo": lo, "hi": hi}).all()
            for name, *values in rows:
                acc = products.setdefault(name, [0.0] * 8)
                for i, v in enumerate(values[:-1]):
                    acc[i] += float(v or 0)
                acc[7] = float(values[-1])
            stamps += [_dt(r[0]) for r in conn.execute(text(
                f"SELECT ts FROM detections_{line_id} WHERE ts >= :lo AND ts < :hi"), {"lo": lo, "hi": hi})]
    keys = ("units", "grams", "rejects", "weighed", "weighed_g", "weighed_g2", "under", "nominal")
    return {"products": {k: dict(zip(keys, v, strict=True)) for k, v in products.items()}, "stamps": stamps}


def check_frame_widgets(runtime, slug: str, first: date, got: dict) -> None:
    """The weight, product and heatmap widgets of one run against plain SQL (same seeded tenant)."""
    truth = frame_truth(runtime, slug, first)
    products = truth["products"]

    top = got["Productos principales"]["rows"]
    ranked = sorted(products.items(), key=lambda kv: (-kv[1]["units"], kv[0]))[:10]
    assert [(r[0], r[1]) for r in top] == [(name, int(v["units"])) for name, v in ranked]
    for name, units, kg, reject in top:
        assert kg == pytest.approx(products[name]["grams"] / 1000, rel=1e-6)
        assert reject == pytest.approx(100 * products[name]["rejects"] / units, abs=1e-9)

    control = got["Control de peso por producto"]["rows"]
    assert {r[0] for r in control} == {n for n, v in products.items() if v["weighed"]}
    assert sum(products[r[0]]["under"] for r in control) > 0  # the demo runs light at times
    for name, nominal, weighed, mean, spread, under_pct, giveaway_g, giveaway_kg in control:
        v = products[name]
        sql_mean = v["weighed_g"] / v["weighed"]
        assert (nominal, weighed) == (v["nominal"], v["weighed"])
        assert under_pct == pytest.approx(100 * v["under"] / weighed, abs=1e-9)
        assert mean == pytest.approx(sql_mean, rel=1e-6)
        assert spread == pytest.approx(math.sqrt(v["weighed_g2"] / weighed - sql_mean ** 2), abs=1e-3)
        assert giveaway_g == pytest.approx(sql_mean - v["nominal"], abs=1e-6)
        assert giveaway_kg == pytest.approx((v["weighed_g"] - weighed * v["nominal"]) / 1000, abs=1e-6)

    heat = got["Unidades por hora y día de la semana"]
    cells: dict[tuple[str, int], int] = {}
    for ts in truth["stamps"]:
        key = (f"{ts.hour:02d}:00", ts.weekday())
        cells[key] = cells.get(key, 0) + 1
    shown = {(label, col): v for label, values in zip(heat["rows"], heat["values"], strict=True)
             for col, v in enumerate(values) if v}
    assert shown == cells
    assert heat["rows"][0] == "06:00"
