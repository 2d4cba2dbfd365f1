"""Shared plumbing of the plant-metadata admin API (areas, lines, products, shifts, calendar).

Bodies are the YAML loader's own models and a change is written by the loader's `apply_plant`,
so the browser and `manage.py load-metadata` accept and refuse exactly the same things and a
change marks the same periods for re-analysis and bumps the metadata version every worker's
cache checks. What the loader does not do (deletes, closed days one by one) uses the same
two calls: `mark_dirty` and `bump_metadata_version`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Table, select
from sqlalchemy.engine import Connection

from app_fastapi.openapi_errors import conflict
from core import schema_tenant as t
from core.errors import Conflict, NotFound, ValidationFailed
from core.metadata_cache import bump_metadata_version
from core.stops_state import mark_dirty
from ingest.plant_metadata import PlantIn, apply_plant, cross_check
from ingest.plant_rows import Row, codes

CONFLICT = conflict("a code that already exists or would change, or a row still in use")


def refusal(errors: list[str]) -> ValidationFailed:
    """The loader's cross-check messages as a 422 (`lines[0].area: unknown area 'x'` → field area)."""
    details = []
    for error in errors:
        where, _, message = error.partition(": ")
        details.append({"field": where.split(".", 1)[-1], "message": message})
    return ValidationFailed("; ".join(d["message"] for d in details), details=details)


def save_entry(conn: Connection, kind: str, item: BaseModel) -> None:
    """Check one entry's references against the stored codes, then write it like the YAML loader."""
    plant = PlantIn(**{kind: [item]})
    errors = cross_check(plant, known_areas=set(codes(conn, t.areas)), known_lines=set(codes(conn, t.lines)),
                         known_shifts=set(codes(conn, t.shifts)), known_products=set(codes(conn, t.products)))
    if errors:
        raise refusal(errors)
    apply_plant(conn, plant)


def require_new_code(conn: Connection, table: Table, code: str, label: str) -> None:
    """409 when the code is taken (entries are matched by code: a POST never updates)."""
    if conn.execute(select(table.c.id).where(table.c.code == code)).first() is not None:
        raise Conflict(f"ya existe {label} con el código «{code}»",
                       details=[{"field": "code", "message": "código repetido"}])


def stored(reader: Callable[[Connection, int], list[Row]], conn: Connection, row_id: int, label: str) -> Row:
    """One row in the loader's shape, or 404."""
    rows = reader(conn, row_id)
    if not rows:
        raise NotFound(f"{label} {row_id} no existe")
    return rows[0]


def require_same_code(before: Row, code: str) -> None:
    """Codes identify entries in YAML files, CSV imports and links: they do not change."""
    if code != before["code"]:
        keep = f"debe seguir siendo «{before['code']}»"
        raise Conflict("el código no se puede cambiar", details=[{"field": "code", "message": keep}])


def editable(row: Row) -> dict[str, Any]:
    """A row without its id (the audit's before/after and the body a form sends back)."""
    return {k: v for k, v in row.items() if k != "id"}


def all_line_ids(conn: Connection) -> list[int]:
    return [r.id for r in conn.execute(select(t.lines.c.id))]


def calendar_changed(conn: Connection, line_ids: Iterable[int], from_date: date) -> None:
    """Planned time of these lines changed from `from_date` on: re-analyse, reload caches."""
    mark_dirty(conn, line_ids, from_date)
    bump_metadata_version(conn)
