"""Counting and reading rules: exact demo row counts, float64 kilograms, one ts range per line,
no LIMIT or UNION in the counting statements (MariaDB would materialise them)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.dialects import mysql, sqlite

from core.db import is_mysql
from core.detection_tables import ensure_line_table
from core.schema_tenant import detections_table
from filters.date_range import DateRangeFilter
from ingest.bulk_load import insert_detections
from ingest.demo_data import DemoPlan, generate
from query.builder import build_query
from query.grain import FrameNeed, shape_frames
from query.master_frame import build_master_frame
from query.planner import read_grained
from query.spec import SqlFragment
from widgets.kpi import KpiWidget


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("rows", "days"), [(1, 1), (999, 3), (50_000, 14), (400_000, 2)])
def test_demo_generator_gives_exactly_n_rows_over_the_days(runtime, plant_tenant, rows, days):
    meta = runtime.meta.get(plant_tenant)
    end = datetime(2026, 11, 18, 15, 30)
    plan = DemoPlan(start=end - timedelta(days=days), end=end, seed=3)
    frames = generate(meta, plan, rows=rows)
    assert sum(len(f) for f in frames.values()) == rows
    stamps = pd.concat([f["ts"] for f in frames.values()])
    assert stamps.min() >= pd.Timestamp(plan.start) and stamps.max() < pd.Timestamp(plan.end)
    if rows >= 999:  # spread over the whole period, not only its most recent part
        assert stamps.min() < pd.Timestamp(plan.start + timedelta(days=1))
        assert stamps.max() > pd.Timestamp(plan.end - timedelta(days=1))
    again = generate(meta, plan, rows=rows)
    assert all(again[k].equals(frames[k]) for k in frames)


def test_seed_demo_stores_exactly_n_rows(runtime, backend):
    from cli.demo import DEMO_SLUG, seed_demo_tenant

    result = seed_demo_tenant(runtime, days=2, rows=12_345, quiet=True)
    with runtime.db.tenant(DEMO_SLUG) as conn:
        stored = sum(
            int(conn.execute(select(func.count()).select_from(detections_table(i))).scalar())
            for i in runtime.meta.get(DEMO_SLUG).lines
            if conn.dialect.has_table(conn, detections_table(i).name)
        )
    assert result.rows == stored == 12_345


def _date_fragment(runtime, slug) -> SqlFragment:
    f = DateRangeFilter(param="fecha", label="Fecha", config={}, meta=runtime.meta.get(slug),
                        clock=runtime.clock)
    return f.to_sql(f.validate({"preset": "personalizado", "start": "2026-11-01", "end": "2026-11-07"}))


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_each_line_states_its_ts_range_once(runtime, plant_tenant):
    frag = _date_fragment(runtime, plant_tenant)
    assert frag.time_range is not None  # the date filter gives the window; the builder states it
    status = SqlFragment(predicate=lambda t: t.c.status == 1)
    query = build_query([1, 2], {"ts", "status"}, [frag, status])
    for dialect in (sqlite.dialect(), mysql.dialect()):
        for branch in query.branches:
            sql = str(branch.compile(dialect=dialect))
            assert sql.count("ts >=") == 1 and sql.count("ts <") == 1, sql
            assert "status =" in sql
    # A narrower predicate on ts that is not the fragment's own range is kept.
    narrow = SqlFragment(predicate=lambda t: t.c.ts >= datetime(2026, 11, 3),
                         time_range=frag.time_range)
    sql = str(build_query([1], {"ts"}, [frag, narrow]).branches[0].compile(dialect=sqlite.dialect()))
    assert sql.count("ts >=") == 2


def test_counting_statements_carry_no_limit_or_union():
    query = build_query([1, 2, 3], {"ts"}, [SqlFragment(time_range=(datetime(2026, 11, 1),
                                                                   datetime(2026, 11, 2)))],
                        limit=1001)
    assert "LIMIT" in str(query.statement().compile(dialect=mysql.dialect()))
    for stmt in query.branch_statements() + query.count_statements():
        sql = str(stmt.compile(dialect=mysql.dialect()))
        assert "LIMIT" not in sql and "UNION" not in sql
    assert len(query.count_statements()) == 3


def _load_weights(runtime, slug, n: int) -> int:
    meta = runtime.meta.get(slug)
    line = meta.line_by_code("L1")
    rng = np.random.default_rng(11)
    # Weights exactly representable in float32 (multiples of 1/64 g): the database and the
    # frame hold the same numbers, so only the summation can differ.
    weight = np.round(rng.normal(141_559.0, 900.0, n) * 64) / 64
    weight[::97] = np.nan
    product = min(p.id for p in meta.products.values() if line.id in p.line_ids)
    frame = pd.DataFrame({
        "ts": np.datetime64("2026-11-10T00:00:00", "ms") + np.arange(n) * np.timedelta64(700, "ms"),
        "seq": 0, "product_id": product, "weight_g": weight, "status": 0,
    })
    with runtime.db.tenant(slug) as conn:
        if is_mysql(conn.engine.url):
            ensure_line_table(conn, line.id, [date(2026, 11, 1)], today=date(2026, 11, 18))
        insert_detections(conn, line.id, frame)
    return line.id


def test_kilograms_match_sql_sum(runtime, plant_tenant):
    line_id = _load_weights(runtime, plant_tenant, 100_000)
    with runtime.db.tenant(plant_tenant) as conn:
        grams = float(conn.execute(text(f"SELECT SUM(weight_g) FROM detections_{line_id}")).scalar())
    frags = [SqlFragment(line_ids=frozenset({line_id}))]
    master = build_master_frame(runtime, plant_tenant, frags, {"weight_g"})
    assert master.frame["weight_g"].dtype == np.float32  # the compact frame stays compact
    widget = KpiWidget(widget_id=1, title="kg", config={"metric": "kg"}, context=None)
    need = FrameNeed(widget.columns(), widget.measure_columns())
    value = widget.process_data(shape_frames(master.frame, [need])[need])["value"]
    assert value == pytest.approx(grams / 1000.0, rel=1e-9)
    pushed = read_grained(runtime, plant_tenant, frags, [need], path="pushdown").frames[need]
    assert widget.process_data(pushed)["value"] == pytest.approx(grams / 1000.0, rel=1e-9)
    float32_sum = float(master.frame["weight_g"].sum()) / 1000.0
    assert abs(value - grams / 1000.0) <= abs(float32_sum - grams / 1000.0)
