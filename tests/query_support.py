"""Rows, frames and reader contexts the query tests share (tests/query/)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import DateTime, bindparam, insert, text
from sqlalchemy.engine import make_url

from core.db import is_mysql
from core.detection_tables import ensure_line_table
from core.metadata_cache import Area, Line, Product, Shift, TenantMeta
from core.schema_tenant import detections_table
from ingest.bulk_load import insert_detections
from query.builder import build_query
from query.columns import source_columns_for
from query.readers import ReadContext
from query.readers.pymysql_reader import PyMySQLReader

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


def read_context(runtime, slug, ids, frags, **limits) -> ReadContext:
    query = build_query(sorted(ids.values()), source_columns_for({"ts", "line_id"}), frags, limit=None)
    values = {"timeout_s": 30.0, "max_rows": 10_000_000, **limits}
    return ReadContext(query=query, url=make_url(runtime.db.tenant_url(slug)),
                       connect=lambda: runtime.db.tenant(slug), chunk_rows=500,
                       engines=runtime.query_state.engines, **values)


class BrokenDriverReader(PyMySQLReader):
    """A reader whose driver cannot talk to the server (as a fast driver may on some hosts)."""

    name = "broken"

    def read(self, ctx):
        raise RuntimeError("unsupported authentication plugin")


def enrich_meta(shifts=None) -> TenantMeta:
    areas = {1: Area(1, "A", "Área A"), 2: Area(2, "B", "Área B")}
    lines = {
        10: Line(10, "L10", "Línea 10", 1, 60.0, 20, 120),
        20: Line(20, "L20", "Línea 20", 2, 60.0, 20, 120),
        30: Line(30, "L30", "Línea 10", 2, 60.0, 20, 120),  # same name as L10
    }
    products = {5: Product(5, "P5", "Prod 5", 45.0), 7: Product(7, "P7", "Prod 7", 90.0)}
    if shifts is None:
        shifts = {
            1: Shift(1, "m", "Mañana", time(6), time(14)),
            2: Shift(2, "t", "Tarde", time(14), time(22)),
            3: Shift(3, "n", "Noche", time(22), time(6)),
        }
    return TenantMeta("x", "UTC", 1, areas=areas, lines=lines, products=products, shifts=shifts)


def base_frame(stamps, line_ids, product_ids) -> pd.DataFrame:
    n = len(stamps)
    return pd.DataFrame({
        "ts": np.array(stamps, dtype="datetime64[ms]"),
        "line_id": np.asarray(line_ids, dtype=np.int16),
        "product_id": np.asarray(product_ids, dtype=np.int32),
        "weight_g": np.linspace(40, 50, n).astype(np.float32),
        "status": np.asarray([i % 2 for i in range(n)], dtype=np.int8),
    })


def write_detections(runtime, slug: str, code: str, stamps: list[datetime], rejects: int = 0) -> None:
    meta = runtime.meta.get(slug)
    line = meta.line_by_code(code)
    product = next(iter(meta.products_by_line[line.id]))
    frame = pd.DataFrame({"ts": pd.to_datetime(stamps), "seq": 0, "product_id": product,
                          "weight_g": 50.0, "status": [1 if i < rejects else 0 for i in range(len(stamps))]})
    with runtime.db.tenant(slug) as conn:
        insert_detections(conn, line.id, frame, allow_infile=False)
