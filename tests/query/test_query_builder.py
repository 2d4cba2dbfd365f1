"""Query builder: fragment combination, projection push-down, partition routing, safe rendering."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import text

from core.detection_tables import ensure_line_table
from core.metadata_cache import Line, TenantMeta
from query.builder import (
    build_query,
    render_literal_mysql,
    resolve_line_ids,
    route_partitions,
    time_window,
    touched_partitions,
)
from query.columns import MASTER_COLUMNS, source_columns_for
from query.master_frame import build_master_frame, explain_rows
from query.spec import SqlFragment
from tests.query_support import load_rows

# `clock` marks only the tests whose outcome follows the date (partitions, presets, demo data).

LAYOUT = ["p0", "p202610", "p202611", "p202612", "p202701", "pmax"]


def enrich_meta() -> TenantMeta:
    lines = {i: Line(i, f"L{i}", f"Line {i}", 1, 60.0, 20, 120, active=i != 4) for i in (1, 2, 3, 4)}
    return TenantMeta("t", "UTC", 1, lines=lines)


def test_source_columns_follow_master_columns():
    assert source_columns_for({"product_name"}) == {"product_id"}
    assert source_columns_for({"line_name", "area_name"}) == {"line_id"}
    assert source_columns_for({"shift_name", "shift_date"}) == {"ts"}
    assert source_columns_for({"is_reject", "nominal_weight_g"}) == {"status", "product_id"}
    assert source_columns_for(set(MASTER_COLUMNS)) == {"ts", "line_id", "product_id", "weight_g", "status"}
    with pytest.raises(ValueError, match="bogus"):
        source_columns_for({"ts", "bogus"})


def test_two_columns_select_two_columns():
    q = build_query([1, 2], source_columns_for({"ts", "line_name"}), [])
    assert q.columns == ("ts", "line_id")
    sql = str(q.statement().compile())
    assert "weight_g" not in sql and "product_id" not in sql and "status" not in sql
    assert sql.count("UNION ALL") == 1


def test_lines_intersect_and_default_to_active():
    meta = enrich_meta()
    assert resolve_line_ids(meta, []) == (1, 2, 3)
    frags = [SqlFragment(line_ids=frozenset({1, 2, 4})), SqlFragment(line_ids=frozenset({2, 4, 9}))]
    assert resolve_line_ids(meta, frags) == (2, 4)
    assert resolve_line_ids(meta, [SqlFragment(line_ids=frozenset({9}))]) == ()


def test_time_windows_intersect():
    a = SqlFragment(time_range=(datetime(2026, 11, 1), datetime(2026, 11, 10)))
    b = SqlFragment(time_range=(datetime(2026, 11, 5), datetime(2026, 12, 1)))
    assert time_window([a, SqlFragment(), b]) == (datetime(2026, 11, 5), datetime(2026, 11, 10))
    assert time_window([SqlFragment()]) is None


@pytest.mark.parametrize(("start", "end", "expected"), [
    (datetime(2026, 11, 3), datetime(2026, 11, 4), ("p202611",)),
    (datetime(2026, 10, 31, 22), datetime(2026, 11, 1, 6), ("p202610", "p202611")),
    (datetime(2026, 11, 1), datetime(2026, 12, 1), ("p202611",)),  # end is exclusive
    (datetime(2026, 9, 1), datetime(2026, 9, 30), ("p202610",)),  # older months live in the first
    (datetime(2026, 12, 15), datetime(2027, 3, 1), ("p202612", "p202701", "pmax")),
    (datetime(2028, 1, 1), datetime(2028, 2, 1), ("pmax",)),
])
def test_touched_partitions(start, end, expected):
    assert touched_partitions(LAYOUT, (start, end)) == expected


def test_no_hint_without_window_or_partitions():
    assert touched_partitions(LAYOUT, None) is None
    assert touched_partitions([], (datetime(2026, 11, 1), datetime(2026, 11, 2))) is None
    assert touched_partitions(["p0", "weird", "pmax"], (datetime(2026, 11, 1), datetime(2026, 11, 2))) is None


def test_literal_rendering_only_takes_typed_values():
    frags = [
        SqlFragment(time_range=(datetime(2026, 11, 1, 6, 30, 0, 250000), datetime(2026, 11, 2))),
        SqlFragment(predicate=lambda t: t.c.product_id.in_([3, 4])),
        SqlFragment(predicate=lambda t: t.c.weight_g.between(10.5, 20.0)),
    ]
    sql = render_literal_mysql(build_query([1], {"ts"}, frags).statement())
    assert "'2026-11-01 06:30:00.250000'" in sql and "IN (3, 4)" in sql and "BETWEEN 10.5 AND 20.0" in sql
    evil = [SqlFragment(predicate=lambda t: t.c.product_id == "1 OR 1=1")]
    with pytest.raises(ValueError, match="refusing"):
        render_literal_mysql(build_query([1], {"ts"}, evil).statement())


@pytest.mark.clock
@pytest.mark.mysql
@pytest.mark.parametrize("backend", ["mysql"])  # partitions exist on MySQL only
def test_explain_shows_only_touched_partitions(runtime, plant_tenant, mysql_url, backend):
    ids = load_rows(runtime, plant_tenant, codes=("L1", "L2"))
    cases = {
        (datetime(2026, 11, 1, 6), datetime(2026, 11, 2, 6)): "p202611",
        (datetime(2026, 10, 31, 22), datetime(2026, 11, 1, 6)): "p202610,p202611",
    }
    for window, expected in cases.items():
        frags = [SqlFragment(time_range=window), SqlFragment(line_ids=frozenset({ids["L1"], ids["L2"]}))]
        with runtime.db.tenant(plant_tenant) as conn:
            routed = route_partitions(conn, runtime.query_state.partitions, [ids["L1"], ids["L2"]], window)
            query = build_query([ids["L1"], ids["L2"]], {"ts"}, frags, partitions=routed)
            sql = str(query.statement().compile(dialect=conn.dialect))
            plans = [r for r in explain_rows(conn, query) if r.get("table", "").startswith("detections_")]
        assert f"PARTITION ({expected.replace(',', ', ')})" in sql
        assert len(plans) == 2 and all(r["partitions"] == expected for r in plans), plans
        master = build_master_frame(runtime, plant_tenant, frags, {"ts"})
        assert master.partitions[f"detections_{ids['L1']}"] == tuple(expected.split(","))


@pytest.mark.clock
@pytest.mark.mysql
@pytest.mark.parametrize("backend", ["mysql"])  # partitions exist on MySQL only
def test_new_partition_is_picked_up_without_losing_rows(runtime, plant_tenant, mysql_url, backend):
    ids = load_rows(runtime, plant_tenant, codes=("L1",))
    stamp = datetime(2026, 9, 20, 10, 0, 0, 250000)  # stored in p202610 (no September partition)
    frags = [SqlFragment(time_range=(stamp - timedelta(hours=1), stamp + timedelta(hours=1))),
             SqlFragment(line_ids=frozenset({ids["L1"]}))]
    first = build_master_frame(runtime, plant_tenant, frags, {"ts"})
    assert first.rows == 1 and first.partitions == {f"detections_{ids['L1']}": ("p202610",)}
    with runtime.db.tenant(plant_tenant) as conn:
        ensure_line_table(conn, ids["L1"], [date(2026, 9, 1)], today=runtime.clock.now_utc().date())
    again = build_master_frame(runtime, plant_tenant, frags, {"ts"})  # cached list is stale here
    assert again.rows == 1 and again.partitions == {f"detections_{ids['L1']}": ("p202609",)}
    with runtime.db.tenant(plant_tenant) as conn:
        n = conn.execute(text(f"SELECT COUNT(*) FROM detections_{ids['L1']} PARTITION (p202609)")).scalar()
    assert n == 1


def _holder(layout: list[str], moment: datetime) -> str:
    """Where MariaDB stores a row: the first partition whose bound is above TO_DAYS(ts)."""
    from core.partitions import add_months

    for name in layout:
        if name == "p0":
            continue
        if name == "pmax":
            return name
        month = date(int(name[1:5]), int(name[5:]), 1)
        if moment.date() < add_months(month, 1):
            return name
    raise AssertionError("no partition")


def test_routing_never_misses_a_row():
    """Every window start (hourly over 8 months) × several lengths, on a layout with gaps."""
    layout = ["p0", "p202501", "p202502", "p202505", "p202506", "p202507", "pmax"]
    lengths = [timedelta(minutes=1), timedelta(hours=5), timedelta(days=1), timedelta(days=1, hours=7),
               timedelta(days=31), timedelta(days=95)]
    start = datetime(2024, 12, 1)
    while start < datetime(2025, 8, 15):
        for length in lengths:
            end = start + length
            chosen = touched_partitions(layout, (start, end))
            last = end - timedelta(milliseconds=1)
            assert _holder(layout, start) == chosen[0], (start, end, chosen)
            assert _holder(layout, last) == chosen[-1], (start, end, chosen)
            middle = start + length / 2
            assert _holder(layout, middle) in chosen
        start += timedelta(hours=5)
