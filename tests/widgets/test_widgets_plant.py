"""Plant widgets: pure computations, and the dashboard run on the hand-made stoppage dataset."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from cli.defaults import install_tenant_defaults
from jobs.runs import run_by_hand
from tests import stops_dataset as ds
from tests.stops_support import SLUG, build_stops_tenant, token
from widgets._cards import kpi_card
from widgets._plant import Components
from widgets.oee_cards import OeeCardWidget
from widgets.plant_data import PlantData
from widgets.shift_comparison import ShiftComparisonWidget
from widgets.stop_timeline import lane_periods, subtract
from widgets.stops_pareto import StopsParetoWidget, band_of
from widgets.weight_histogram import WeightHistogramWidget

MOMENT = datetime(2026, 11, 18, 15, 30)
LINES = {"A": {"name": "Línea A", "ideal_rate_per_min": 60.0},
         "B": {"name": "Línea B", "ideal_rate_per_min": 30.0}}


def row(line: str, planned: float, downtime: float, units: int, good: int, day: str = "2026-11-17",
        shift: str = "manana", stops: int = 1) -> dict:
    return {"line": line, "line_name": LINES[line]["name"], "production_date": day, "shift": shift,
            "shift_name": shift.title(), "planned_s": planned, "downtime_s": downtime, "stops": stops,
            "micro_stops": 0, "units": units, "good": good}


def plant(rows: list[dict], **parts) -> PlantData:
    return PlantData(start=MOMENT, end=MOMENT, now=MOMENT, report={"rows": rows, "totals": {}}, lines=LINES,
                     **parts)


def card(metric: str, data: PlantData) -> dict:
    return OeeCardWidget(widget_id=1, title="t", config={"metric": metric}).process_data(data)


def test_oee_worked_example_from_summed_components():
    comps = Components()
    comps.add({"planned_s": 450 * 60, "downtime_s": 45 * 60, "stops": 3, "micro_stops": 0, "units": 10_000,
               "good": 9_800}, cycle_s=2.0)
    r = comps.ratios()
    assert tuple(round(r[k], 3) for k in ("availability", "performance", "quality", "oee")) == (
        0.900, 0.823, 0.980, 0.726)
    assert r["oee"] == pytest.approx(r["availability"] * r["performance"] * r["quality"], abs=1e-12)


def test_plant_oee_of_two_lines_with_different_planned_time_is_not_the_mean_of_line_oees():
    rows = [row("A", 28_800, 2_880, 20_000, 19_600), row("B", 7_200, 3_600, 1_000, 900)]
    line_oee = [19_600 * 1.0 / 28_800, 900 * 2.0 / 7_200]
    value = card("oee", plant(rows))["value"] / 100
    assert value == pytest.approx((19_600 * 1.0 + 900 * 2.0) / (28_800 + 7_200), abs=1e-12)
    assert abs(value - sum(line_oee) / 2) > 0.1
    availability = card("availability", plant(rows))["value"] / 100
    assert availability == pytest.approx((25_920 + 3_600) / 36_000, abs=1e-12)


def test_change_against_the_previous_period_and_the_planned_weighted_target():
    now = [row("A", 28_800, 0, 14_400, 14_400), row("B", 7_200, 0, 0, 0, stops=1)]
    before = [row("A", 28_800, 0, 28_800, 28_800)]
    targets = [{"line": "A", "shift": None, "product": None, "units_per_shift": None, "oee": 0.8},
               {"line": "B", "shift": None, "product": None, "units_per_shift": None, "oee": 0.3}]
    data = plant(now, previous={"rows": before, "totals": {}}, targets=targets)
    out = card("oee", data)
    assert out["value"] == pytest.approx(100 * 14_400 / 36_000)
    assert out["previous"] == pytest.approx(100.0)
    assert out["change_pct"] == pytest.approx(-60.0) and out["trend"] == "down"
    assert out["target"] == pytest.approx(100 * (0.8 * 28_800 + 0.3 * 7_200) / 36_000)


def test_nothing_recorded_is_sin_datos_not_zero():
    assert card("oee", plant([row("A", 28_800, 0, 0, 0, stops=0)])) == {"empty": True}


def test_kpi_card_builder_keeps_counts_scales_ratios_and_compares_with_the_period_before():
    count = kpi_card("stops", 3, 4, unit="paradas", decimals=0, higher_is_better=False)
    assert list(count) == ["value", "unit", "decimals", "metric", "previous", "change_pct", "trend",
                           "higher_is_better"]
    assert count["value"] == 3 and type(count["value"]) is int and count["previous"] == 4
    assert count["change_pct"] == pytest.approx(-25.0) and count["trend"] == "down"
    assert count["unit"] == "paradas" and count["decimals"] == 0 and count["higher_is_better"] is False
    shown = kpi_card("oee", 0.55, 0.5, unit="%", decimals=1, higher_is_better=True, scale=100.0)
    assert shown["value"] == pytest.approx(55.0) and shown["previous"] == pytest.approx(50.0)
    assert shown["change_pct"] == (0.55 - 0.5) / 0.5 * 100.0, "the change of the unscaled figures"
    assert shown["trend"] == "up"
    alone = kpi_card("mtbf_min", None, None, unit="min", decimals=1, higher_is_better=True, scale=100.0)
    assert [alone[k] for k in ("value", "previous", "change_pct", "trend")] == [None, None, None, "flat"]
    assert kpi_card("stops", 5, 0, unit="paradas", decimals=0, higher_is_better=False)["change_pct"] is None


def test_pareto_sorts_descending_with_the_cumulative_share():
    stops = [
        {"line": "A", "line_name": "Línea A", "kind": "stop", "start": "2026-11-17T06:00:00",
         "end": "2026-11-17T06:10:00", "downtime_s": 600.0},
        {"line": "B", "line_name": "Línea B", "kind": "stop", "start": "2026-11-17T07:00:00",
         "end": "2026-11-17T08:30:00", "downtime_s": 5400.0},
        {"line": "A", "line_name": "Línea A", "kind": "micro", "start": "2026-11-17T09:00:00",
         "end": "2026-11-17T09:00:30", "downtime_s": 0.0},
    ]
    data = PlantData(start=MOMENT, end=MOMENT, now=MOMENT, stops=stops, lines=LINES)
    body = StopsParetoWidget(widget_id=1, title="t", config={"by": "line"}).process_data(data)
    assert body["data"]["labels"] == ["Línea B", "Línea A"]
    assert body["data"]["datasets"][0]["data"] == [90.0, 10.0]
    assert body["data"]["datasets"][1]["data"] == [90.0, 100.0]
    bands = StopsParetoWidget(widget_id=1, title="t", config={"by": "band"}).process_data(data)
    assert bands["data"]["labels"] == ["> 60 min", "5–15 min"]
    assert [band_of(m) for m in (0.5, 5, 14.99, 15, 60)] == ["< 5 min", "5–15 min", "5–15 min", "15–30 min",
                                                              "> 60 min"]


def test_shift_comparison_sums_lines_per_instance_and_marks_best_and_worst():
    rows = [row("A", 100, 0, 90, 90, shift="manana"), row("B", 100, 0, 10, 10, shift="manana"),
            row("A", 100, 0, 30, 27, shift="tarde"), row("A", 100, 0, 60, 60, shift="noche")]
    body = ShiftComparisonWidget(widget_id=1, title="t").process_data(plant(rows))
    got = {r[1]: r for r in body["rows"]}
    assert got["Manana"][2] == 100 and got["Manana"][4] == pytest.approx(100 * (90 + 10 * 2) / 200)
    assert got["Tarde"][5] == pytest.approx(10.0)
    assert body["row_marks"] == [None, "worst", "best"]  # OEE 0.55, 0.27, 0.60
    assert [r[-1] for r in body["rows"]] == ["", "Peor", "Mejor"]


def test_timeline_running_is_planned_minus_stops_and_breaks_are_shaded():
    base = [(datetime(2026, 1, 1, 6), datetime(2026, 1, 1, 10)), (datetime(2026, 1, 1, 10, 20),
                                                                    datetime(2026, 1, 1, 14))]
    holes = [(datetime(2026, 1, 1, 9, 50), datetime(2026, 1, 1, 10, 30))]
    assert subtract(base, holes) == [(datetime(2026, 1, 1, 6), datetime(2026, 1, 1, 9, 50)),
                                     (datetime(2026, 1, 1, 10, 30), datetime(2026, 1, 1, 14))]
    inst = {"start": "2026-01-01T06:00:00", "end": "2026-01-01T14:00:00",
            "planned": [["2026-01-01T06:00:00", "2026-01-01T10:00:00"],
                        ["2026-01-01T10:20:00", "2026-01-01T14:00:00"]]}
    stop = {"kind": "stop", "start": "2026-01-01T07:00:00", "end": "2026-01-01T07:30:00"}
    periods = lane_periods("A", [inst], [stop], now=datetime(2026, 1, 1, 12))
    kinds = [(p["kind"], p["start"][11:16], p["end"][11:16]) for p in periods]
    assert kinds == [("run", "06:00", "07:00"), ("stop", "07:00", "07:30"), ("run", "07:30", "10:00"),
                     ("break", "10:00", "10:20"), ("run", "10:20", "12:00")]


@pytest.fixture
def stops_api(runtime, clock, engine_app):
    build_stops_tenant(runtime, clock)
    install_tenant_defaults(runtime, SLUG, replace=True)
    assert run_by_hand(runtime, "gap-analysis", SLUG)[0].status == "ok"
    client = TestClient(engine_app)
    client.headers.update(token(runtime))
    return client


def _day(day) -> dict:
    fecha = {"preset": "personalizado", "start": day.isoformat(), "end": day.isoformat()}
    return {"filters": {"fecha": fecha}}


def _cards(body: dict) -> dict[str, dict]:
    return {w["data"]["metric"]: w["data"] for w in body["widgets"]
            if w["class"] in ("OeeCardWidget", "DowntimeCardWidget") and "data" in w}


def test_oee_and_downtime_cards_on_the_hand_made_dataset(stops_api):
    res = stops_api.post("/api/v1/dashboard/run", json=_day(ds.D1))
    assert res.status_code == 200, res.text
    cards = _cards(res.json())
    today = [ds.EXPECTED[(ds.D1, s)] for s in ("manana", "tarde")]
    before = [ds.EXPECTED[(ds.D, s)] for s in ("manana", "tarde", "noche")]

    def oee(parts):
        return sum(p["good"] for p in parts) * 10 / sum(p["planned_s"] for p in parts)

    def availability(parts):
        planned = sum(p["planned_s"] for p in parts)
        return (planned - sum(p["downtime_s"] for p in parts)) / planned

    assert cards["oee"]["value"] == pytest.approx(100 * oee(today), abs=1e-9)
    assert cards["oee"]["previous"] == pytest.approx(100 * oee(before), abs=1e-9)
    change = 100 * (oee(today) - oee(before)) / oee(before)
    assert cards["oee"]["change_pct"] == pytest.approx(change, abs=1e-9)
    assert cards["availability"]["value"] == pytest.approx(100 * availability(today), abs=1e-9)
    assert cards["availability"]["previous"] == pytest.approx(100 * availability(before), abs=1e-9)
    assert cards["quality"]["value"] == pytest.approx(100 * 180 / 181, abs=1e-9)
    assert cards["stops"]["value"] == 2 and cards["stops"]["previous"] == 6
    assert cards["micro_stops"]["value"] == 0 and cards["micro_stops"]["previous"] == 2
    assert cards["downtime_min"]["value"] == pytest.approx((27_600 + 3_600) / 60, abs=1e-9)
    assert cards["mttr_min"]["value"] == pytest.approx((27_600 + 3_600) / 60 / 2, abs=1e-9)
    assert cards["mtbf_min"]["value"] == pytest.approx((33_000 - 31_200) / 60 / 2, abs=1e-9)


def test_weight_histogram_bars_are_wholly_under_or_over_the_nominal():
    weights = [88.0, 99.5, 100.0, 100.4, 101.0, 103.0, 130.0, None, 95.0]
    frame = pd.DataFrame({"weight_g": weights, "nominal_weight_g": [100.0] * 9,
                          "is_reject": [False] * 8 + [True]})
    body = WeightHistogramWidget(widget_id=1, title="t").process_data(frame)
    counts, edges = body["data"]["datasets"][0]["data"], body["options"]["edges"]
    assert sum(counts) == 7 and 0.0 in edges
    under = sum(c for c, upper in zip(counts, edges[1:], strict=True) if upper <= 0)
    assert under == 2 == body["options"]["under_nominal"]
