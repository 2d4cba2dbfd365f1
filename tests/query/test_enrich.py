"""Application-side joins on a hand-made TenantMeta, checked row by row."""

from __future__ import annotations

from datetime import time

import numpy as np
import pandas as pd

from core.metadata_cache import Shift
from query.enrich import enrich
from tests.query_support import base_frame, enrich_meta

STAMPS = ["2026-11-01 05:59:59.999", "2026-11-01 06:00:00", "2026-11-01 13:59:59", "2026-11-01 14:00",
          "2026-11-01 21:59", "2026-11-01 22:00", "2026-11-01 23:59:59.500", "2026-11-02 00:00",
          "2024-02-29 03:00", "1969-12-31 23:30"]


def test_shift_and_production_day():
    base = base_frame(STAMPS, [10] * len(STAMPS), [5] * len(STAMPS))
    out = enrich(base, enrich_meta(), {"shift_code", "shift_id", "shift_date", "shift_name"})
    assert list(out.shift_code) == ["n", "m", "m", "t", "t", "n", "n", "n", "n", "n"]
    assert list(out.shift_id) == [3, 1, 1, 2, 2, 3, 3, 3, 3, 3]
    assert [d.strftime("%Y-%m-%d") for d in out.shift_date] == [
        "2026-10-31", "2026-11-01", "2026-11-01", "2026-11-01", "2026-11-01", "2026-11-01",
        "2026-11-01", "2026-11-01", "2024-02-28", "1969-12-31"]
    assert out.shift_name[0] == "Noche"


def test_uncovered_minutes_have_no_shift():
    meta = enrich_meta({1: Shift(1, "m", "Mañana", time(6), time(14))})
    out = enrich(base_frame(STAMPS[:4], [10] * 4, [5] * 4), meta, {"shift_id", "shift_code", "shift_date"})
    assert out.shift_code.isna().tolist() == [True, False, False, True]
    assert out.shift_id.isna().tolist() == [True, False, False, True]
    # No shift applies: the production day the row falls in (days start at 06:00, the first shift).
    assert out.shift_date[0] == pd.Timestamp("2026-10-31")
    assert out.shift_date[3] == pd.Timestamp("2026-11-01")


def test_names_codes_areas_and_weights():
    base = base_frame(STAMPS[:5], [10, 20, 30, 10, 20], [5, 7, 99, 7, 5])
    cols = {"line_code", "line_name", "area_id", "area_code", "area_name", "product_code",
            "product_name", "nominal_weight_g", "is_reject", "status", "weight_g", "line_id"}
    out = enrich(base, enrich_meta(), cols)
    assert list(out.line_code) == ["L10", "L20", "L30", "L10", "L20"]
    assert list(out.line_name) == ["Línea 10", "Línea 20", "Línea 10", "Línea 10", "Línea 20"]
    assert list(out.area_id) == [1, 2, 2, 1, 2]
    assert list(out.area_name) == ["Área A", "Área B", "Área B", "Área A", "Área B"]
    assert out.product_code.astype(object).where(out.product_code.notna(), None).tolist() == \
        ["P5", "P7", None, "P7", "P5"]  # product 99 is not in the metadata
    np.testing.assert_array_equal(out.nominal_weight_g.to_numpy(), [45.0, 90.0, np.nan, 90.0, 45.0])
    assert list(out.is_reject) == [False, True, False, True, False]
    assert isinstance(out.line_name.dtype, pd.CategoricalDtype)
    assert out.line_name.cat.categories.tolist() == ["Línea 10", "Línea 20"]
    assert out.nominal_weight_g.dtype == np.float32 and out.area_id.dtype == np.int16


def test_exact_columns_in_vocabulary_order_and_empty_input():
    out = enrich(base_frame(STAMPS[:2], [10, 20], [5, 7]), enrich_meta(), {"product_name", "ts"})
    assert list(out.columns) == ["ts", "product_name"]
    empty = enrich(base_frame([], [], []), enrich_meta(), {"ts", "line_name", "shift_date", "shift_id"})
    assert len(empty) == 0 and list(empty.columns) == ["ts", "line_name", "shift_id", "shift_date"]


def test_hour_and_production_day_buckets_match_plain_flooring():
    meta = enrich_meta({1: Shift(1, "m", "Mañana", time(6, 30), time(14))})  # day starts 06:30
    out = enrich(base_frame(STAMPS, [10] * len(STAMPS), [5] * len(STAMPS)), meta,
                 {"hour_start", "production_day"})
    ts = pd.Series(pd.to_datetime(STAMPS, format="ISO8601"))
    assert list(out.hour_start) == list(ts.dt.floor("h"))
    assert list(out.production_day) == list((ts - pd.Timedelta(minutes=390)).dt.floor("D"))
    assert out.production_day[1] == pd.Timestamp("2026-10-31")  # 06:00 is before the 06:30 day start
