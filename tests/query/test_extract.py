"""The master DataFrame against independent plain SQL over the same rows, on both backends."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import DateTime, bindparam, insert, text

from core.db import is_mysql
from core.detection_tables import ensure_line_table
from core.errors import QueryTimeout, TooManyRows
from core.schema_tenant import detections_table
from query.columns import MASTER_COLUMNS
from query.master_frame import build_master_frame
from query.spec import SqlFragment

pytestmark = pytest.mark.clock  # partitions, presets and demo data follow the clock

START = datetime(2026, 10, 30, 0, 0)
END = datetime(2026, 11, 3, 0, 0)
STEP = timedelta(minutes=7, seconds=13)
EXTRA = [datetime(2026, 9, 20, 10, 0, 0, 250000), datetime(2027, 5, 3, 23, 30)]  # no own partition


def line_ids_by_code(rt, slug) -> dict[str, int]:
    meta = rt.meta.get(slug)
    return {line.code: line.id for line in meta.lines.values()}


def make_rows(rt, slug, line_id: int) -> list[dict]:
    """Deterministic detections: a 7m13s grid with millisecond offsets, NULL weights, rejects."""
    meta = rt.meta.get(slug)
    products = sorted(p.id for p in meta.products.values() if line_id in p.line_ids)
    rows, ts, i = [], START, 0
    stamps = []
    while ts < END:
        stamps.append(ts + timedelta(milliseconds=(i * 37 + line_id) % 1000))
        ts += STEP
        i += 1
    stamps += EXTRA
    for i, stamp in enumerate(stamps):
        pid = products[(i // 5) % len(products)]
        nominal = meta.products[pid].nominal_weight_g
        weight = None if i % 37 == 0 else nominal + ((i % 11) - 5) * 0.25
        rows.append({"ts": stamp, "seq": 0, "product_id": pid, "weight_g": weight,
                     "status": 1 if i % 13 == 0 else 0})
    return rows


def load_rows(rt, slug, codes=("L1", "L2", "L3")) -> dict[str, int]:
    """Insert the rows for some lines (October and November get partitions on MySQL, September not)."""
    ids = line_ids_by_code(rt, slug)
    if is_mysql(rt.db.tenant_url(slug)):
        with rt.db.tenant(slug) as conn:
            for code in codes:
                ensure_line_table(conn, ids[code], [date(2026, 10, 1), date(2026, 11, 1)],
                                  today=rt.clock.now_utc().date())
    with rt.db.tenant(slug) as conn:
        for code in codes:
            conn.execute(insert(detections_table(ids[code])), make_rows(rt, slug, ids[code]))
    return ids


@pytest.fixture
def loaded(runtime, plant_tenant):
    return load_rows(runtime, plant_tenant)


def _parse_ts(value) -> pd.Timestamp:
    return pd.Timestamp(value).as_unit("ms")


def expected_frame(rt, slug, line_ids, start, end, where_sql: str = "") -> pd.DataFrame:
    """Independent reference: plain SQL with JOINs per line table, shifts assigned row by row."""
    rows = []
    with rt.db.tenant(slug) as conn:
        shifts = conn.execute(text("SELECT id, code, name, start_time, end_time FROM shifts")).all()
        for line_id in line_ids:
            sql = (
                f"SELECT d.ts, d.product_id, d.weight_g, d.status, l.id AS line_id, l.code AS line_code, "
                f"l.name AS line_name, a.id AS area_id, a.code AS area_code, a.name AS area_name, "
                f"p.code AS product_code, p.name AS product_name, p.nominal_weight_g "
                f"FROM detections_{int(line_id)} d JOIN `lines` l ON l.id = {int(line_id)} "
                f"JOIN areas a ON a.id = l.area_id LEFT JOIN products p ON p.id = d.product_id "
                f"WHERE d.ts >= :a AND d.ts < :b {where_sql}"
            )
            stmt = text(sql).bindparams(bindparam("a", type_=DateTime), bindparam("b", type_=DateTime))
            rows += [dict(r._mapping) for r in conn.execute(stmt, {"a": start, "b": end})]
    out = []
    day_start = pd.Timedelta(rt.meta.get(slug).day_offset)
    for r in rows:
        ts = _parse_ts(r["ts"])
        clock = time(ts.hour, ts.minute)
        shift, day = None, ts.normalize()
        for s in shifts:
            lo, hi = time.fromisoformat(s.start_time), time.fromisoformat(s.end_time)
            if lo < hi and lo <= clock < hi:
                shift = s
            elif hi <= lo and (clock >= lo or clock < hi):
                shift = s
                if clock < hi:
                    day = day - pd.Timedelta(days=1)
        out.append({
            **r, "ts": ts, "weight_g": np.nan if r["weight_g"] is None else float(r["weight_g"]),
            "is_reject": r["status"] == 1, "shift_id": shift.id if shift else None,
            "shift_code": shift.code if shift else None, "shift_name": shift.name if shift else None,
            "shift_date": day, "hour_start": ts.replace(minute=0, second=0, microsecond=0, nanosecond=0),
            "production_day": (ts - day_start).normalize(),
        })
    return pd.DataFrame(out)


def assert_matches(master: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Same rows and values, column by column, after sorting both by (line_id, ts)."""
    assert len(master) == len(expected)
    if not len(expected):
        return
    got = master.sort_values(["line_id", "ts"]).reset_index(drop=True)
    exp = expected.sort_values(["line_id", "ts"]).reset_index(drop=True)
    for col in master.columns:
        g, e = got[col], exp[col]
        if col in ("weight_g", "nominal_weight_g"):
            np.testing.assert_allclose(g.to_numpy(dtype=float), e.to_numpy(dtype=float), rtol=1e-6)
        elif col in ("ts", "shift_date", "hour_start", "production_day"):
            assert (g.to_numpy(dtype="datetime64[ms]") == e.to_numpy(dtype="datetime64[ms]")).all(), col
        else:
            assert [None if pd.isna(x) else x for x in g.astype(object)] == \
                   [None if pd.isna(x) else x for x in e.astype(object)], col


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


def slow_predicate(backend: str):
    """A predicate that makes the database work for seconds on a few thousand rows."""
    if backend == "mysql":
        from sqlalchemy import func

        return lambda t: func.sleep(0.01) == 0

    def quadratic(t):
        from sqlalchemy import func, select

        o, o2 = t.alias("o"), t.alias("o2")
        pairs = select(func.count()).select_from(o).join(o2, o2.c.ts <= t.c.ts).where(o.c.ts <= t.c.ts)
        return pairs.scalar_subquery() >= 0
    return quadratic


def test_slow_query_is_cancelled(runtime, plant_tenant, loaded, backend):
    rt = _limited(runtime, query_timeout_s=0.3)
    frags = [SqlFragment(time_range=(START, END)), SqlFragment(predicate=slow_predicate(backend))]
    with pytest.raises(QueryTimeout) as err:
        build_master_frame(rt, plant_tenant, frags, {"ts"})
    assert err.value.status_code == 504
