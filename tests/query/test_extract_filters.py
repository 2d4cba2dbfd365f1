"""The real demo filters feeding the extraction, checked against plain SQL."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from filters import build_filter_set
from filters.defaults import DEFAULT_FILTER_ROWS
from query.master_frame import build_master_frame
from tests.query_support import assert_matches, expected_frame, load_rows

COLUMNS = {"ts", "line_id", "line_name", "product_name", "weight_g", "is_reject", "shift_code",
           "shift_date", "area_name"}


def test_demo_filters_select_the_same_rows_as_plain_sql(runtime, plant_tenant):
    ids = load_rows(runtime, plant_tenant)
    meta = runtime.meta.get(plant_tenant)
    night = next(s.id for s in meta.shifts.values() if s.code == "noche")
    filter_set = build_filter_set(DEFAULT_FILTER_ROWS, meta)
    values = filter_set.validate({
        "fecha": {"start": "2026-10-31", "end": "2026-11-01"},  # two production days, across the month end
        "lineas": [ids["L1"], ids["L3"]],
        "turnos": [night],
        "incluir_rechazos": "false",
        "peso": {"min": "40", "max": "160.5"},
    })
    master = build_master_frame(runtime, plant_tenant, filter_set.fragments(values), COLUMNS)
    # Production days start at 06:00: 31 Oct and 1 Nov are [31 Oct 06:00, 2 Nov 06:00).
    expected = expected_frame(
        runtime, plant_tenant, [ids["L1"], ids["L3"]], datetime(2026, 10, 31, 6), datetime(2026, 11, 2, 6),
        "AND d.status = 0 AND d.weight_g >= 40 AND d.weight_g <= 160.5",
    )
    expected = expected[expected.shift_code == "noche"]
    assert master.rows == len(expected) > 50
    assert_matches(master.frame, expected)
    assert set(master.frame.shift_code) == {"noche"} and not master.frame.is_reject.any()
    # Exactly the two nights that start on the selected production days.
    assert set(master.frame.shift_date) == {pd.Timestamp("2026-10-31"), pd.Timestamp("2026-11-01")}
