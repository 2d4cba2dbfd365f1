"""Filter fragments run against real detection tables (SQLite and MariaDB): row counts equal an
independent Python evaluation of the same rows, and hostile input never reaches SQL."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import and_, false, func, insert, inspect, or_, select
from sqlalchemy.dialects import mysql

from core import schema_tenant as t
from core.errors import ValidationFailed
from filters import FilterSet, build_filter_set
from filters.defaults import DEFAULT_FILTER_ROWS
from query.builder import build_query, time_ranges, time_window

DAY0 = datetime(2026, 3, 1)
INJECTIONS = [
    "1; DROP TABLE lines; --",
    "1' OR '1'='1",
    "1) OR (1=1",
    "'; DELETE FROM detections_1; --",
    "1 UNION SELECT password_hash FROM users",
    "0x31",
    "1e3",
    "2026-03-01'; DROP TABLE products; --",
    "hoy'; --",
    "\x00",
    "1 -- ",
    "SLEEP(5)",
]


def make_rows(meta, line_code: str, offset_min: int) -> list[dict]:
    """A deterministic day-and-night mix plus rows exactly on shift boundaries."""
    line = meta.line_by_code(line_code)
    products = sorted(meta.products_by_line[line.id])
    rows = []
    ts = DAY0 + timedelta(minutes=offset_min, milliseconds=123)
    i = 0
    while ts < DAY0 + timedelta(days=3):
        product = meta.products[products[i % len(products)]]
        weight = None if i % 23 == 0 else round(product.nominal_weight_g + (i % 11) - 5 + 0.25, 2)
        rows.append(
            {"ts": ts, "seq": 0, "product_id": product.id, "weight_g": weight, "status": int(i % 7 == 0)}
        )
        ts += timedelta(minutes=17)
        i += 1
    for hhmmss in ("05:59:59.999", "06:00:00", "13:59:59.999", "21:59:59.999", "22:00:00", "00:00:00"):
        moment = datetime.fromisoformat(f"2026-03-02T{hhmmss}")
        rows.append({"ts": moment, "seq": 1, "product_id": products[0], "weight_g": 50.0, "status": 0})
    return rows


@pytest.fixture
def plant_rows(runtime, plant_tenant):
    """Detections on L1 and L2 (L3, L4 stay empty); returns {line_id: rows}."""
    meta = runtime.meta.get(plant_tenant)
    data = {
        meta.line_by_code("L1").id: make_rows(meta, "L1", 0),
        meta.line_by_code("L2").id: make_rows(meta, "L2", 5),
    }
    with runtime.db.tenant(plant_tenant) as conn:
        for line_id, rows in data.items():
            conn.execute(insert(t.detections_table(line_id)), rows)
    return meta, data


def filter_set(meta) -> FilterSet:
    fs = build_filter_set([dict(r, id=i) for i, r in enumerate(DEFAULT_FILTER_ROWS)], meta)
    assert fs.errors == []
    return fs


def sql_count(conn, meta, fragments) -> int:
    """Apply fragments the way the query builder does: lines intersected, predicates ANDed, the
    time window (or the shift ranges inside it) as `ts` bounds."""
    lines = set(meta.lines)
    for frag in fragments:
        if frag.line_ids is not None:
            lines &= frag.line_ids
    window = time_window(fragments)
    ranges = time_ranges(fragments, window)
    total = 0
    for line_id in sorted(lines):
        table = t.detections_table(line_id)
        preds = [frag.predicate(table) for frag in fragments if frag.predicate is not None]
        if ranges is not None:
            preds.append(or_(false(), *(and_(table.c.ts >= a, table.c.ts < b) for a, b in ranges)))
        elif window is not None:
            preds += [table.c.ts >= window[0], table.c.ts < window[1]]
        total += conn.execute(select(func.count()).select_from(table).where(*preds)).scalar()
    return total


def python_count(meta, data, fs: FilterSet, values) -> int:
    """The same selection computed from the inserted rows, without SQL."""
    lines = values["lineas"] if values["lineas"] is not None else set(meta.lines)
    if values["areas"] is not None:
        lines = {i for i in lines if meta.lines[i].area_id in values["areas"]}
    fecha, peso = values["fecha"], values["peso"]
    count = 0
    for line_id, rows in data.items():
        if line_id not in lines:
            continue
        for r in rows:
            minute = r["ts"].hour * 60 + r["ts"].minute
            if not fecha.start <= r["ts"] < fecha.end:
                continue
            if values["productos"] is not None and r["product_id"] not in values["productos"]:
                continue
            # Inside a window of whole production days, a shift's instances are exactly the rows
            # whose time of day lies in the shift (tests/core/test_production_days.py checks instances).
            if values["turnos"] is not None and not any(
                meta.shifts[s].contains_minute(minute) for s in values["turnos"].ids
            ):
                continue
            if not values["incluir_rechazos"] and r["status"] != 0:
                continue
            if not peso.is_open:
                w = r["weight_g"]
                if (
                    w is None
                    or (peso.low is not None and w < peso.low)
                    or (peso.high is not None and w > peso.high)
                ):
                    continue
            count += 1
    return count


def shift_id(meta, code: str) -> int:
    return meta.shifts_by_code[code].id


def test_counts_match_independent_python(runtime, plant_tenant, plant_rows):
    meta, data = plant_rows
    fs = filter_set(meta)
    l1, l2 = meta.line_by_code("L1").id, meta.line_by_code("L2").id
    pf045 = meta.products_by_code["PF-045"].id
    cases = [
        {"fecha": {"start": "2026-03-01", "end": "2026-03-03"}},
        {"fecha": {"start": "2026-03-02", "end": "2026-03-02"}, "turnos": [shift_id(meta, "noche")]},
        {"fecha": {"start": "2026-03-02", "end": "2026-03-02"}, "turnos": [shift_id(meta, "manana")]},
        {
            "fecha": {"start": "2026-03-01", "end": "2026-03-03"},
            "turnos": [shift_id(meta, "tarde"), shift_id(meta, "noche")],
            "incluir_rechazos": "false",
            "lineas": [l1],
        },
        {
            "fecha": {"start": "2026-03-01T22:00", "end": "2026-03-02T06:00"},
            "productos": [pf045],
            "peso": {"min": 42},
        },
        {
            "fecha": {"start": "2026-03-01", "end": "2026-03-03"},
            "areas": [meta.lines[l1].area_id],
            "lineas": [l2],
            "peso": {"min": 55.25, "max": 63.25},
        },
        {"fecha": {"start": "2026-03-01", "end": "2026-03-03"}, "areas": [meta.line_by_code("L3").area_id]},
    ]
    with runtime.db.tenant(plant_tenant) as conn:
        for raw in cases:
            values = fs.validate(raw)
            expected = python_count(meta, data, fs, values)
            assert sql_count(conn, meta, fs.fragments(values)) == expected, raw
    # The cases are not vacuous: the night shift on 2 March has rows, boundaries included.
    values = fs.validate(cases[1])
    assert python_count(meta, data, fs, values) > 40


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_selections_match_python(runtime, plant_tenant, plant_rows, data):
    meta, rows = plant_rows
    fs = filter_set(meta)
    subset = lambda ids: st.just("todos") | st.lists(st.sampled_from(sorted(ids)), min_size=1, unique=True)  # noqa: E731
    start = data.draw(st.datetimes(DAY0 - timedelta(hours=5), DAY0 + timedelta(days=3)))
    end = start + data.draw(st.timedeltas(timedelta(minutes=1), timedelta(days=3)))
    low = data.draw(st.none() | st.floats(0, 200).map(lambda x: round(x, 2)))
    raw = {
        "fecha": {"start": start.isoformat(timespec="seconds"), "end": end.isoformat(timespec="seconds")},
        "lineas": data.draw(subset(meta.lines)),
        "areas": data.draw(subset(meta.areas)),
        "productos": data.draw(subset(set().union(*(meta.products_by_line[i] for i in rows)))),
        "turnos": data.draw(subset(meta.shifts)),
        "incluir_rechazos": data.draw(st.booleans()),
        "peso": {"min": low, "max": data.draw(st.none() | st.floats(low or 0, 400))},
    }
    try:
        values = fs.validate(raw)
    except ValidationFailed as exc:
        assert {d["field"] for d in exc.details} <= {"productos", "fecha"}
        return
    with runtime.db.tenant(plant_tenant) as conn:
        assert sql_count(conn, meta, fs.fragments(values)) == python_count(meta, rows, fs, values)


def table_state(conn) -> dict[str, int]:
    """Row count of every tenant table (detections included): any executed injection shows here."""
    counts = {}
    for name in sorted(inspect(conn).get_table_names()):
        table = t.metadata.tables.get(name)
        if table is None and name.startswith("detections_"):
            table = t.detections_table(int(name.removeprefix("detections_")))
        if table is not None:
            counts[name] = conn.execute(select(func.count()).select_from(table)).scalar()
    return counts


def test_injection_strings_are_rejected_or_bound(runtime, plant_tenant, plant_rows):
    meta, _ = plant_rows
    fs = filter_set(meta)
    with runtime.db.tenant(plant_tenant) as conn:
        before = table_state(conn)
    accepted = rejected = 0
    for f in fs.filters:
        for evil in INJECTIONS:
            shapes = [
                evil,
                [evil],
                [1, evil],
                {"min": evil, "max": evil},
                {"preset": evil},
                {"preset": "personalizado", "start": evil, "end": evil},
                {"start": "2026-03-01", "end": evil},
            ]
            for shape in shapes:
                try:
                    values = fs.validate({f.param: shape})
                except ValidationFailed as exc:
                    assert [d["field"] for d in exc.details] == [f.param]
                    rejected += 1
                    continue
                accepted += 1  # e.g. "todos"-like or ignored shapes: the value is typed, so run it
                with runtime.db.tenant(plant_tenant) as conn:
                    sql_count(conn, meta, fs.fragments(values))
    assert rejected > 0
    with runtime.db.tenant(plant_tenant) as conn:
        assert table_state(conn) == before


def test_user_values_travel_as_bind_parameters(plant_rows):
    meta, _ = plant_rows
    fs = filter_set(meta)
    values = fs.validate(
        {
            "fecha": {"start": "2026-03-01", "end": "2026-03-02"},
            "productos": [meta.products_by_code["PF-045"].id],
            "turnos": [shift_id(meta, "noche")],
            "peso": {"min": 41.5, "max": 77.25},
            "incluir_rechazos": False,
        }
    )
    query = build_query(sorted(meta.lines), {"ts", "weight_g"}, fs.fragments(values))
    compiled = query.statement().compile(dialect=mysql.dialect(), compile_kwargs={"render_postcompile": True})
    sql = str(compiled)
    assert compiled.params, sql
    for literal in ("41.5", "77.25", "1320", "360", "2026", "22:00"):
        assert literal not in sql
