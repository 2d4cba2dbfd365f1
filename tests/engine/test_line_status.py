"""The engine's line status answer: plant-local times sent with the plant's UTC offset."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

from core.clock import parse_instant
from engine.line_status import lines_status_now
from ingest.bulk_load import insert_detections
from query.line_status import RATE_WINDOW_MIN

NOW = datetime(2026, 11, 18, 15, 30)  # plant time, shift "tarde"


def test_times_carry_the_plant_offset(runtime, plant_tenant, clock):
    clock.set(parse_instant(NOW.isoformat(), "America/Argentina/Buenos_Aires"))
    meta = runtime.meta.get(plant_tenant)
    line = meta.line_by_code("L1")
    last = NOW - timedelta(seconds=6)
    frame = pd.DataFrame({"ts": pd.to_datetime([NOW - timedelta(minutes=1), last]), "seq": 0,
                          "product_id": next(iter(meta.products_by_line[line.id])), "weight_g": 50.0,
                          "status": [0, 0]})
    with runtime.db.tenant(plant_tenant) as conn:
        insert_detections(conn, line.id, frame, allow_infile=False)
    got = lines_status_now(runtime, plant_tenant)
    assert got["now"].isoformat() == "2026-11-18T15:30:00-03:00"
    assert (got["timezone"], got["rate_window_min"]) == ("America/Argentina/Buenos_Aires", RATE_WINDOW_MIN)
    by_code = {line["code"]: line for line in got["lines"]}
    assert by_code["L1"]["last_detection"].isoformat() == "2026-11-18T15:29:54-03:00"
    assert by_code["L4"]["last_detection"] is None and by_code["L4"]["since"] is None
