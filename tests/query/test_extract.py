"""The master DataFrame against independent plain SQL over the same rows, on both backends."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pandas as pd
import pytest

from core.errors import QueryTimeout, TooManyRows
from query.columns import MASTER_COLUMNS
from query.master_frame import build_master_frame
from query.spec import SqlFragment
from tests.query_support import END, EXTRA, START, assert_matches, expected_frame, load_rows, slow_predicate

pytestmark = pytest.mark.clock  # partitions, presets and demo data follow the clock

@pytest.fixture
def loaded(runtime, plant_tenant):
    return load_rows(runtime, plant_tenant)


ALL = set(MASTER_COLUMNS)


def test_single_line_inside_one_month(runtime, plant_tenant, loaded):
    start, end = datetime(2026, 11, 1, 6, 0), datetime(2026, 11, 2, 6, 0)
    frags = [SqlFragment(line_ids=frozenset({loaded["L1"]})), SqlFragment(time_range=(start, end))]
    master = build_master_frame(runtime, plant_tenant, frags, ALL)
    assert list(master.frame.columns) == list(MASTER_COLUMNS)
    assert master.rows == len(master.frame) > 150
    assert_matches(master.frame, expected_frame(runtime, plant_tenant, [loaded["L1"]], start, end))
    assert set(master.timings) == {"query", "fetch", "dataframe", "joins"}


def test_several_lines_across_month_boundary(runtime, plant_tenant, loaded):
    start, end = datetime(2026, 10, 30, 12, 0), datetime(2026, 11, 1, 12, 0)
    lines = [loaded["L1"], loaded["L3"]]
    frags = [SqlFragment(line_ids=frozenset(lines)), SqlFragment(time_range=(start, end))]
    master = build_master_frame(runtime, plant_tenant, frags, ALL)
    expected = expected_frame(runtime, plant_tenant, lines, start, end)
    assert set(master.frame["line_id"]) == set(lines)
    assert (master.frame["ts"] < pd.Timestamp("2026-11-01")).any()
    assert (master.frame["ts"] >= pd.Timestamp("2026-11-01")).any()
    assert_matches(master.frame, expected)


def test_night_shift_across_midnight_belongs_to_its_start_day(runtime, plant_tenant, loaded):
    start, end = datetime(2026, 10, 31, 21, 0), datetime(2026, 11, 1, 7, 0)
    frags = [SqlFragment(line_ids=frozenset({loaded["L2"]})), SqlFragment(time_range=(start, end))]
    frame = build_master_frame(runtime, plant_tenant, frags, {"ts", "shift_code", "shift_date"}).frame
    night = frame[(frame.ts >= "2026-10-31 22:00") & (frame.ts < "2026-11-01 06:00")]
    assert len(night) > 60 and set(night.shift_code) == {"noche"}
    assert set(night.shift_date) == {pd.Timestamp("2026-10-31")}
    after = frame[frame.ts >= "2026-11-01 06:00"]
    assert set(after.shift_code) == {"manana"} and set(after.shift_date) == {pd.Timestamp("2026-11-01")}
    before = frame[frame.ts < "2026-10-31 22:00"]
    assert set(before.shift_code) == {"tarde"} and set(before.shift_date) == {pd.Timestamp("2026-10-31")}
    expected = expected_frame(runtime, plant_tenant, [loaded["L2"]], start, end)
    got = frame.sort_values("ts").reset_index(drop=True)
    assert list(got.shift_code) == list(expected.sort_values("ts").shift_code)


def test_all_active_lines_when_no_line_filter(runtime, plant_tenant, loaded):
    start, end = START, END
    master = build_master_frame(runtime, plant_tenant, [SqlFragment(time_range=(start, end))], ALL)
    expected = expected_frame(runtime, plant_tenant, sorted(loaded.values()), start, end)
    assert master.rows == len(expected) > 2000
    assert_matches(master.frame, expected)


def test_predicates_combine_with_and(runtime, plant_tenant, loaded):
    start, end = datetime(2026, 10, 31), datetime(2026, 11, 2)
    frags = [
        SqlFragment(time_range=(datetime(2026, 10, 1), end)),
        SqlFragment(time_range=(start, datetime(2027, 1, 1))),
        SqlFragment(predicate=lambda t: t.c.status == 1),
        SqlFragment(predicate=lambda t: t.c.weight_g >= 100.0),
        SqlFragment(line_ids=frozenset({loaded["L1"], loaded["L2"]})),
        SqlFragment(line_ids=frozenset({loaded["L2"], loaded["L3"]})),
    ]
    master = build_master_frame(runtime, plant_tenant, frags, {"line_id", "ts", "weight_g", "is_reject"})
    expected = expected_frame(runtime, plant_tenant, [loaded["L2"]], start, end,
                              "AND d.status = 1 AND d.weight_g >= 100.0")
    assert master.rows == len(expected) > 0
    assert master.frame.is_reject.all()
    assert_matches(master.frame, expected)


def test_projection_reads_only_needed_columns(runtime, plant_tenant, loaded):
    frags = [SqlFragment(time_range=(START, END))]
    master = build_master_frame(runtime, plant_tenant, frags, {"line_name", "product_name"})
    assert list(master.frame.columns) == ["line_name", "product_name"]
    assert isinstance(master.frame["line_name"].dtype, pd.CategoricalDtype)
    assert master.frame["product_name"].notna().all()


def test_rows_outside_own_partitions_are_found(runtime, plant_tenant, loaded):
    for stamp in EXTRA:
        frags = [SqlFragment(time_range=(stamp - timedelta(hours=1), stamp + timedelta(hours=1)))]
        master = build_master_frame(runtime, plant_tenant, frags, {"ts", "line_id"})
        assert master.rows == 3, stamp
        assert set(master.frame.ts) == {pd.Timestamp(stamp).as_unit("ms")}


def test_empty_selection_gives_typed_empty_frame(runtime, plant_tenant, loaded):
    frags = [SqlFragment(line_ids=frozenset({loaded["L1"]})), SqlFragment(line_ids=frozenset({loaded["L2"]}))]
    master = build_master_frame(runtime, plant_tenant, frags, {"ts", "line_name", "shift_date"})
    assert master.rows == 0 and list(master.frame.columns) == ["ts", "line_name", "shift_date"]
    frags = [SqlFragment(time_range=(datetime(2026, 11, 2), datetime(2026, 11, 1)))]
    assert build_master_frame(runtime, plant_tenant, frags, {"ts"}).rows == 0


def test_unknown_column_is_rejected(runtime, plant_tenant):
    with pytest.raises(ValueError, match="bogus"):
        build_master_frame(runtime, plant_tenant, [], {"ts", "bogus"})


def _limited(rt, **changes):
    return replace(rt, settings=rt.settings.model_copy(update=changes))


def test_too_many_rows_asks_to_narrow(runtime, plant_tenant, loaded):
    rt = _limited(runtime, max_rows=100)
    frags = [SqlFragment(time_range=(START, END))]
    with pytest.raises(TooManyRows) as err:
        build_master_frame(rt, plant_tenant, frags, {"ts"})
    assert err.value.status_code == 413
    assert "Acotá el rango de fechas" in err.value.message
    small = [SqlFragment(time_range=(datetime(2026, 11, 1, 6), datetime(2026, 11, 1, 8))),
             SqlFragment(line_ids=frozenset({loaded["L1"]}))]
    assert 0 < build_master_frame(rt, plant_tenant, small, {"ts"}).rows <= 100


def test_slow_query_is_cancelled(runtime, plant_tenant, loaded, backend):
    rt = _limited(runtime, query_timeout_s=0.3)
    frags = [SqlFragment(time_range=(START, END)), SqlFragment(predicate=slow_predicate(backend))]
    with pytest.raises(QueryTimeout) as err:
        build_master_frame(rt, plant_tenant, frags, {"ts"})
    assert err.value.status_code == 504
