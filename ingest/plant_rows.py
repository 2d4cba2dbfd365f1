"""The stored plant read back in the YAML loader's shape (codes, not ids), plus each row's id.

The admin API lists and audits rows in this shape, and an edit form sends the same shape back,
so one set of models (ingest/plant_metadata.py) validates both the YAML file and the browser.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.engine import Connection

from core import schema_tenant as t
from core.metadata_cache import parse_weekdays

Row = dict[str, Any]


def _float(value: float) -> float:
    """MySQL FLOAT keeps ~7 digits: 61.3 reads back as 61.2999992; show what the admin typed."""
    return float(f"{float(value):.6g}")


def codes(conn: Connection, table: Table) -> dict[str, int]:
    """code → id of a metadata table."""
    return {r.code: r.id for r in conn.execute(select(table.c.code, table.c.id))}


def _by_id(conn: Connection, table: Table) -> dict[int, str]:
    return {r.id: r.code for r in conn.execute(select(table.c.id, table.c.code))}


def _one(rows: list[Row], row_id: int | None) -> list[Row]:
    return rows if row_id is None else [r for r in rows if r["id"] == row_id]


def area_rows(conn: Connection, row_id: int | None = None) -> list[Row]:
    """Areas by code."""
    rows = conn.execute(select(t.areas).order_by(t.areas.c.code))
    return _one([{"id": r.id, "code": r.code, "name": r.name} for r in rows], row_id)


def line_rows(conn: Connection, row_id: int | None = None) -> list[Row]:
    """Lines by code, with their area's code."""
    areas = _by_id(conn, t.areas)
    rows = conn.execute(select(t.lines).order_by(t.lines.c.code))
    return _one([{
        "id": r.id, "code": r.code, "name": r.name, "area": areas.get(r.area_id, ""),
        "ideal_rate_per_min": _float(r.ideal_rate_per_min), "micro_stop_s": int(r.micro_stop_s),
        "stop_threshold_s": int(r.stop_threshold_s), "no_data_after_s": int(r.no_data_after_s),
        "active": bool(r.active),
    } for r in rows], row_id)


def product_rows(conn: Connection, row_id: int | None = None) -> list[Row]:
    """Products by code (inactive ones too), with the codes of the lines that make them."""
    lines = _by_id(conn, t.lines)
    made_on: dict[int, list[str]] = {}
    for r in conn.execute(select(t.line_products)):
        made_on.setdefault(r.product_id, []).append(lines.get(r.line_id, ""))
    rows = conn.execute(select(t.products).order_by(t.products.c.code))
    return _one([{
        "id": r.id, "code": r.code, "name": r.name, "nominal_weight_g": _float(r.nominal_weight_g),
        "lines": sorted(made_on.get(r.id, [])), "active": bool(r.active),
    } for r in rows], row_id)


def shift_rows(conn: Connection, row_id: int | None = None) -> list[Row]:
    """Shifts by start time, with their breaks and ISO weekdays."""
    breaks: dict[int, list[Row]] = {}
    b = t.shift_breaks.c
    for r in conn.execute(select(t.shift_breaks).order_by(b.shift_id, b.start_time, b.id)):
        breaks.setdefault(r.shift_id, []).append({"name": r.name, "start": r.start_time, "end": r.end_time})
    rows = conn.execute(select(t.shifts).order_by(t.shifts.c.start_time, t.shifts.c.code))
    return _one([{
        "id": r.id, "code": r.code, "name": r.name, "start": r.start_time, "end": r.end_time,
        "breaks": breaks.get(r.id, []), "weekdays": sorted(parse_weekdays(r.weekdays)),
    } for r in rows], row_id)


def closed_day_rows(conn: Connection, row_id: int | None = None) -> list[Row]:
    """Closed days by date; `line` is None when the whole plant is closed."""
    lines = _by_id(conn, t.lines)
    c = t.closed_days.c
    rows = conn.execute(select(t.closed_days).order_by(c.day, c.line_id, c.id))
    return _one([{
        "id": r.id, "date": r.day.isoformat(), "name": r.name,
        "line": None if r.line_id is None else lines.get(r.line_id, ""),
    } for r in rows], row_id)


def target_rows(conn: Connection, row_id: int | None = None) -> list[Row]:
    """Targets by line code; `shift`/`product` None = every shift/product of the line."""
    lines, shifts, products = _by_id(conn, t.lines), _by_id(conn, t.shifts), _by_id(conn, t.products)
    rows = [{
        "id": r.id, "line": lines.get(r.line_id, ""),
        "shift": None if r.shift_id is None else shifts.get(r.shift_id, ""),
        "product": None if r.product_id is None else products.get(r.product_id, ""),
        "units_per_shift": r.units_per_shift, "oee": None if r.oee is None else _float(r.oee),
    } for r in conn.execute(select(t.targets).order_by(t.targets.c.id))]
    rows.sort(key=lambda r: (r["line"], r["shift"] or "", r["product"] or ""))
    return _one(rows, row_id)


def stop_reason_rows(conn: Connection, row_id: int | None = None) -> list[Row]:
    """Stop reasons by code (inactive ones too)."""
    rows = conn.execute(select(t.stop_reasons).order_by(t.stop_reasons.c.code))
    return _one([{"id": r.id, "code": r.code, "name": r.name, "active": bool(r.active)} for r in rows],
                row_id)
