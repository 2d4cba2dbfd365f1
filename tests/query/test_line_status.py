"""Line status now: thresholds, shift window, units vs target and OEE against hand-computed values."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import text

from core.clock import parse_instant
from query.line_status import classify, current_shift, label, line_statuses
from tests.query_support import write_detections

NOW = datetime(2026, 11, 18, 15, 30)  # plant time, Wednesday, shift "tarde" 14:00-22:00


def _every(start: datetime, end: datetime, seconds: float) -> list[datetime]:
    out, at = [], start
    while at <= end:
        out.append(at)
        at += timedelta(seconds=seconds)
    return out


def test_statuses_units_target_and_oee(runtime, plant_tenant, clock):
    clock.set(parse_instant(NOW.isoformat(), "America/Argentina/Buenos_Aires"))
    l1_stamps = _every(NOW - timedelta(minutes=100), NOW - timedelta(seconds=5), 2)
    write_detections(runtime, plant_tenant, "L1", l1_stamps, rejects=3)
    write_detections(runtime, plant_tenant, "L1", [NOW + timedelta(minutes=5)])  # the future does not count
    write_detections(runtime, plant_tenant, "L2",
                     _every(NOW - timedelta(minutes=10), NOW - timedelta(minutes=4), 3))
    write_detections(runtime, plant_tenant, "L3",
                     _every(NOW - timedelta(minutes=2), NOW - timedelta(seconds=30), 3))
    meta = runtime.meta.get(plant_tenant)
    with runtime.db.tenant(plant_tenant) as conn:
        got = {s["code"]: s for s in line_statuses(conn, meta, clock)}
        l1_table = f"detections_{meta.line_by_code('L1').id}"
        shift_units, shift_rejects = conn.execute(text(
            f"SELECT COUNT(*), SUM(status) FROM {l1_table} WHERE ts >= :a AND ts <= :b"),
            {"a": "2026-11-18 14:00:00", "b": "2026-11-18 15:30:00"}).one()
        recent = conn.execute(text(f"SELECT COUNT(*) FROM {l1_table} WHERE ts >= :a AND ts <= :b"),
                              {"a": "2026-11-18 15:25:00", "b": "2026-11-18 15:30:00"}).scalar()
    assert {c: s["status"] for c, s in got.items()} == {
        "L1": "produciendo", "L2": "parada", "L3": "micro_parada", "L4": "sin_datos"}
    assert got["L2"]["label"] == "parada desde 15:26"
    assert got["L4"]["label"] == "sin datos" and got["L4"]["last_detection"] is None
    l1 = got["L1"]
    assert l1["last_detection"] == l1_stamps[-1] == datetime(2026, 11, 18, 15, 29, 54)
    # 90 planned minutes so far (14:00-15:30, the 18:00 break is later) at 60/min
    assert l1["target"] == 60 * 90 and l1["shift"] == "Tarde"
    assert (l1["units_shift"], l1["rejects_shift"]) == (shift_units, 0) and shift_rejects == 0
    assert l1["oee"] == round(shift_units / 5400, 4)
    assert l1["rate_per_h"] == round(recent * 12) and l1["ideal_per_h"] == 3600


@pytest.mark.parametrize(("now", "shift", "start", "planned"), [
    (datetime(2026, 11, 18, 1, 0), "noche", datetime(2026, 11, 17, 22, 0), 180.0),
    (datetime(2026, 11, 18, 3, 0), "noche", datetime(2026, 11, 17, 22, 0), 280.0),  # 20-min break at 02:00
    (datetime(2026, 11, 18, 23, 0), "noche", datetime(2026, 11, 18, 22, 0), 60.0),
    (datetime(2026, 11, 18, 10, 10), "manana", datetime(2026, 11, 18, 6, 0), 240.0),  # inside the break
])
def test_current_shift_window_and_planned_minutes(runtime, plant_tenant, now, shift, start, planned):
    meta = runtime.meta.get(plant_tenant)
    window = current_shift(meta, now)
    assert (window.shift.code, window.start, window.planned_minutes(now)) == (shift, start, planned)


def test_classify_thresholds_and_breaks(runtime, plant_tenant):
    meta = runtime.meta.get(plant_tenant)
    line = meta.line_by_code("L2")  # micro 20 s, stop 180 s, no data after 900 s
    now = datetime(2026, 11, 18, 10, 10)
    window = current_shift(meta, now)  # manana, in its 10:00-10:20 break
    assert classify(line, now, now - timedelta(seconds=600), window)[0] == "descanso"
    now = datetime(2026, 11, 18, 11, 0)
    window = current_shift(meta, now)
    cases = {19: "produciendo", 20: "micro_parada", 180: "parada", 900: "parada", 901: "sin_datos"}
    for gap, status in cases.items():
        assert classify(line, now, now - timedelta(seconds=gap), window)[0] == status, gap
    assert label("parada", datetime(2026, 11, 18, 9, 5)) == "parada desde 09:05"
