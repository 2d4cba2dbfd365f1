"""Rollups: the grain, the histogram bins, and rebuild_rollups against raw rows (both backends)."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta

import numpy as np
import pytest
from sqlalchemy import func, select

from core import schema_tenant as t
from core.errors import ValidationFailed
from core.rollup_grain import HIST_BINS, ROLLUP_GRAIN, ceil_to_grain, floor_to_grain, hist_bin
from rollups.rebuild import rebuild_rollups
from tests.rollup_support import (
    assert_hourly_sums_the_five_minute_rows,
    assert_same_rollups,
    expected_rollups,
    insert_rows,
    random_rows,
    stored_rollups,
)

DAY = datetime(2026, 11, 17)


def test_floor_and_ceil_to_the_five_minute_grain():
    assert ROLLUP_GRAIN == timedelta(minutes=5)
    assert floor_to_grain(datetime(2026, 11, 17, 10, 4, 59, 999_999)) == datetime(2026, 11, 17, 10, 0)
    assert floor_to_grain(datetime(2026, 11, 17, 10, 5)) == datetime(2026, 11, 17, 10, 5)
    assert floor_to_grain(datetime(2026, 12, 31, 23, 59, 59)) == datetime(2026, 12, 31, 23, 55)
    assert ceil_to_grain(datetime(2026, 11, 17, 10, 5)) == datetime(2026, 11, 17, 10, 5)
    assert ceil_to_grain(datetime(2026, 12, 31, 23, 55, 0, 1)) == datetime(2027, 1, 1)


@pytest.mark.parametrize(("weight", "expected"), [
    (80.75, 0),      # −10.28 %: below the open-ended low edge
    (81.0, 1),       # −10 % exactly: first inner bin [−10, −9)
    (89.0, 9),       # −1.11 %: [−2, −1)
    (90.0, 11),      # 0 %: [0, 1)
    (90.875, 11),    # +0.97 %
    (98.875, 20),    # +9.86 %: last inner bin [9, 10)
    (99.0, 21),      # +10 % exactly: the open-ended high bin
    (200.0, 21),
])
def test_hist_bin_edges_relative_to_nominal(weight, expected):
    assert hist_bin(weight, 90.0) == expected
    assert 0 <= expected < HIST_BINS


def test_shift_starts_and_breaks_of_the_demo_plant_fall_on_bucket_edges(runtime, plant_tenant):
    meta = runtime.meta.get(plant_tenant)
    edges = [s.start for s in meta.shifts.values()] + [s.end for s in meta.shifts.values()]
    edges += [x for s in meta.shifts.values() for b in s.breaks for x in (b.start, b.end)]
    assert len(edges) >= 12
    for moment in edges:
        at = datetime.combine(DAY.date(), moment)
        assert floor_to_grain(at) == at, moment
    assert time(10, 20) in edges


def _line(runtime, slug: str, code: str = "L1") -> int:
    return runtime.meta.get(slug).lines_by_code[code].id


def test_rebuild_equals_a_recomputation_from_the_raw_rows(runtime, plant_tenant):
    meta = runtime.meta.get(plant_tenant)
    line = _line(runtime, plant_tenant)
    products = {p.id: p.nominal_weight_g for p in meta.products.values() if line in p.line_ids}
    pf090 = meta.products_by_code["PF-090"].id
    edge_cases = [
        (DAY.replace(hour=10, minute=4, second=59, microsecond=999_000), pf090, 81.0, 0),
        (DAY.replace(hour=10, minute=5), pf090, 99.0, 0),          # first instant of the next bucket
        (DAY.replace(hour=10, minute=5), pf090, 90.0, 0),          # same ts: seq 1, exactly nominal
        (DAY.replace(hour=10, minute=6), pf090, None, 1),          # unweighed reject
        (DAY.replace(hour=10, minute=7), 999_999, 50.0, 0),        # product without a products row
    ]
    rows = edge_cases + random_rows(np.random.default_rng(11), DAY.replace(hour=8), 4, 3000, products)
    insert_rows(runtime, plant_tenant, line, rows)
    start, end = DAY.replace(hour=8), DAY.replace(hour=12)
    with runtime.db.tenant(plant_tenant) as conn:
        written = rebuild_rollups(conn, meta, line, start, end)
    want = expected_rollups(runtime, plant_tenant, line, start, end)
    got = stored_rollups(runtime, plant_tenant, line)
    assert written == len(want) > 48 * 3
    assert_same_rollups(got, want)
    assert got[(DAY.replace(hour=10, minute=5), pf090, 0)]["hist"][11] >= 1
    unknown = got[(DAY.replace(hour=10, minute=5), 999_999, 0)]
    assert unknown["hist"] == [0] * HIST_BINS and unknown["weight_n"] >= 1


def test_a_rebuild_over_days_with_a_gap_equals_a_recomputation(runtime, plant_tenant):
    """Several days (MySQL's day-sized statements meet chunk edges mid-data) with an empty day."""
    meta = runtime.meta.get(plant_tenant)
    line = _line(runtime, plant_tenant)
    products = {p.id: p.nominal_weight_g for p in meta.products.values() if line in p.line_ids}
    rng = np.random.default_rng(5)
    first = DAY.replace(hour=17, minute=3)  # not a chunk-aligned start: day chunks start at 17:00
    rows = random_rows(rng, first, 30, 2000, products) + random_rows(
        rng, first + timedelta(days=3), 5, 500, products)
    insert_rows(runtime, plant_tenant, line, rows)
    start, end = DAY, DAY + timedelta(days=5)
    with runtime.db.tenant(plant_tenant) as conn:
        written = rebuild_rollups(conn, meta, line, start, end)
    want = expected_rollups(runtime, plant_tenant, line, start, end)
    assert written == len(want)
    assert_same_rollups(stored_rollups(runtime, plant_tenant, line), want)
    assert assert_hourly_sums_the_five_minute_rows(runtime, plant_tenant, line) > 30


def test_rollup_totals_equal_plain_sql_group_by(runtime, plant_tenant):
    """Independent check in SQL: per product and status over the whole range."""
    meta = runtime.meta.get(plant_tenant)
    line = _line(runtime, plant_tenant, "L2")
    products = {p.id: p.nominal_weight_g for p in meta.products.values() if line in p.line_ids}
    insert_rows(runtime, plant_tenant, line, random_rows(np.random.default_rng(5), DAY, 24, 4000, products))
    with runtime.db.tenant(plant_tenant) as conn:
        rebuild_rollups(conn, meta, line, DAY, DAY + timedelta(days=1))
        d, r = t.detections_table(line), t.rollups.c
        raw = conn.execute(
            select(d.c.product_id, d.c.status, func.count(), func.count(d.c.weight_g), func.sum(d.c.weight_g),
                   func.min(d.c.weight_g), func.max(d.c.weight_g))
            .group_by(d.c.product_id, d.c.status).order_by(d.c.product_id, d.c.status)).all()
        rolled = conn.execute(
            select(r.product_id, r.status, func.sum(r.units), func.sum(r.weight_n), func.sum(r.weight_sum_g),
                   func.min(r.weight_min_g), func.max(r.weight_max_g))
            .where(r.line_id == line).group_by(r.product_id, r.status).order_by(r.product_id, r.status)).all()
        hists = conn.execute(select(r.hist, r.weight_n, r.product_id).where(r.line_id == line)).all()
    assert len(raw) == len(rolled) >= 4
    for a, b in zip(raw, rolled, strict=True):
        assert tuple(a[:4]) == (b[0], b[1], int(b[2]), int(b[3]))
        assert b[4] == pytest.approx(a[4], rel=1e-12)
        assert (a[5], a[6]) == (b[5], b[6])
    for hist, weight_n, product_id in hists:
        if product_id in products:
            assert sum(json.loads(hist)) == weight_n


def test_rebuild_is_idempotent_and_touches_only_its_range(runtime, plant_tenant):
    meta = runtime.meta.get(plant_tenant)
    line = _line(runtime, plant_tenant)
    products = {p.id: p.nominal_weight_g for p in meta.products.values() if line in p.line_ids}
    insert_rows(runtime, plant_tenant, line, random_rows(np.random.default_rng(3), DAY, 6, 1500, products))
    with runtime.db.tenant(plant_tenant) as conn:
        rebuild_rollups(conn, meta, line, DAY, DAY + timedelta(hours=6))
    full = stored_rollups(runtime, plant_tenant, line)
    with runtime.db.tenant(plant_tenant) as conn:
        conn.execute(t.rollups.update().values(units=-1))
        rebuild_rollups(conn, meta, line, DAY + timedelta(hours=2), DAY + timedelta(hours=3))
    partly = stored_rollups(runtime, plant_tenant, line)
    for key, values in partly.items():
        inside = DAY + timedelta(hours=2) <= key[0] < DAY + timedelta(hours=3)
        assert (values == full[key]) if inside else values["units"] == -1
    with runtime.db.tenant(plant_tenant) as conn:
        rebuild_rollups(conn, meta, line, DAY, DAY + timedelta(hours=6))
        rebuild_rollups(conn, meta, line, DAY, DAY + timedelta(hours=6))
    assert stored_rollups(runtime, plant_tenant, line) == full


def test_rebuild_rejects_ranges_off_the_grain_and_unknown_lines(runtime, plant_tenant):
    meta, line = runtime.meta.get(plant_tenant), _line(runtime, plant_tenant)
    with runtime.db.tenant(plant_tenant) as conn:
        with pytest.raises(ValidationFailed):
            rebuild_rollups(conn, meta, line, DAY.replace(minute=3), DAY.replace(hour=1))
        with pytest.raises(ValidationFailed):
            rebuild_rollups(conn, meta, line, DAY.replace(hour=2), DAY.replace(hour=1))
        with pytest.raises(Exception, match="unknown line"):
            rebuild_rollups(conn, meta, 424242, DAY, DAY.replace(hour=1))
