"""Plant metadata from a YAML file: areas, lines, products and shifts, created or updated by code.

The file format is documented in README.md ("Plant metadata YAML"); `config/demo_plant.yml` is
a complete example. The whole file is validated before anything is written, and written in one
transaction: a file with one bad entry changes nothing.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from core import schema_tenant as t
from core.db import DatabaseManager
from core.detection_tables import ensure_line_table
from core.errors import ImportRejected
from core.metadata_cache import bump_metadata_version

CODE = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$"
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _hhmm(value: str) -> str:
    if not isinstance(value, str) or not HHMM.match(value):
        raise ValueError("must be a time HH:MM between 00:00 and 23:59")
    return value


class AreaIn(_Strict):
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=200)


class LineIn(_Strict):
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=200)
    area: str
    ideal_rate_per_min: float = Field(gt=0, le=100_000)
    micro_stop_s: int = Field(default=20, ge=1)
    stop_threshold_s: int = Field(default=120, ge=1)
    active: bool = True

    @model_validator(mode="after")
    def _thresholds(self) -> LineIn:
        if self.micro_stop_s >= self.stop_threshold_s:
            raise ValueError("micro_stop_s must be smaller than stop_threshold_s")
        return self


class ProductIn(_Strict):
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=200)
    nominal_weight_g: float = Field(gt=0, le=1_000_000)
    lines: list[str] = Field(default_factory=list)
    active: bool = True


class BreakIn(_Strict):
    name: str = Field(min_length=1, max_length=100)
    start: str
    end: str

    _check = field_validator("start", "end")(_hhmm)


class ShiftIn(_Strict):
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=100)
    start: str
    end: str
    breaks: list[BreakIn] = Field(default_factory=list)

    _check = field_validator("start", "end")(_hhmm)

    @model_validator(mode="after")
    def _not_empty(self) -> ShiftIn:
        if self.start == self.end:
            raise ValueError("start and end must differ")
        return self


class PlantIn(_Strict):
    areas: list[AreaIn] = Field(default_factory=list)
    lines: list[LineIn] = Field(default_factory=list)
    products: list[ProductIn] = Field(default_factory=list)
    shifts: list[ShiftIn] = Field(default_factory=list)
    # --- production day (issue 9 §1): when the plant's day starts; absent = earliest shift ---
    production_day_start: str | None = None


    @field_validator("production_day_start")
    @classmethod
    def _day_start(cls, value: str | None) -> str | None:
        return None if value is None else _hhmm(value)


def _unique(items: list[Any], kind: str, errors: list[str]) -> None:
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item.code in seen:
            errors.append(f"{kind}[{i}].code: duplicate code {item.code!r}")
        seen.add(item.code)


def parse_plant(
    raw_text: str, *, known_areas: set[str] = frozenset(), known_lines: set[str] = frozenset()
) -> PlantIn:
    """Parse and validate a plant file; every problem is reported with its path."""
    try:
        data = yaml.safe_load(raw_text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ImportRejected(f"not valid YAML{where}") from None
    if not isinstance(data, dict):
        raise ImportRejected("the plant file must be a mapping with areas, lines, products, shifts")
    try:
        plant = PlantIn.model_validate(data)
    except ValidationError as exc:
        msgs = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise ImportRejected("invalid plant file", details=msgs) from None
    errors: list[str] = []
    for kind in ("areas", "lines", "products", "shifts"):
        _unique(getattr(plant, kind), kind, errors)
    areas = known_areas | {a.code for a in plant.areas}
    lines = known_lines | {line.code for line in plant.lines}
    for i, line in enumerate(plant.lines):
        if line.area not in areas:
            errors.append(f"lines[{i}].area: unknown area {line.area!r}")
    for i, product in enumerate(plant.products):
        for code in product.lines:
            if code not in lines:
                errors.append(f"products[{i}].lines: unknown line {code!r}")
    if errors:
        raise ImportRejected("invalid plant file", details=errors)
    return plant


def _upsert(conn: Connection, table, code: str, values: dict[str, Any]) -> int:  # noqa: ANN001
    existing = conn.execute(select(table.c.id).where(table.c.code == code)).scalar()
    if existing is None:
        return conn.execute(insert(table).values(code=code, **values)).inserted_primary_key[0]
    conn.execute(update(table).where(table.c.id == existing).values(**values))
    return existing


def _codes(conn: Connection, table) -> dict[str, int]:  # noqa: ANN001
    return {r.code: r.id for r in conn.execute(select(table.c.code, table.c.id))}


def _set_setting(conn: Connection, key: str, value: str) -> None:
    """Upsert one plant setting (portable: update, insert when nothing was updated)."""
    s = t.plant_settings
    if conn.execute(select(s.c.key).where(s.c.key == key)).first() is None:
        conn.execute(insert(s).values(key=key, value=value))
    else:
        conn.execute(update(s).where(s.c.key == key).values(value=value))


def apply_plant(conn: Connection, plant: PlantIn) -> dict[str, int]:
    """Write a validated plant in the caller's transaction; returns counts per kind."""
    for area in plant.areas:
        _upsert(conn, t.areas, area.code, {"name": area.name})
    area_ids = _codes(conn, t.areas)
    for line in plant.lines:
        _upsert(conn, t.lines, line.code, {
            "name": line.name, "area_id": area_ids[line.area],
            "ideal_rate_per_min": line.ideal_rate_per_min, "micro_stop_s": line.micro_stop_s,
            "stop_threshold_s": line.stop_threshold_s, "active": line.active,
        })
    line_ids = _codes(conn, t.lines)
    for product in plant.products:
        pid = _upsert(conn, t.products, product.code, {
            "name": product.name, "nominal_weight_g": product.nominal_weight_g,
            "active": product.active,
        })
        conn.execute(delete(t.line_products).where(t.line_products.c.product_id == pid))
        if product.lines:
            conn.execute(insert(t.line_products), [
                {"line_id": line_ids[code], "product_id": pid} for code in product.lines
            ])
    for shift in plant.shifts:
        sid = _upsert(conn, t.shifts, shift.code, {
            "name": shift.name, "start_time": shift.start, "end_time": shift.end,
        })
        conn.execute(delete(t.shift_breaks).where(t.shift_breaks.c.shift_id == sid))
        if shift.breaks:
            conn.execute(insert(t.shift_breaks), [
                {"shift_id": sid, "name": b.name, "start_time": b.start, "end_time": b.end}
                for b in shift.breaks
            ])
    if plant.production_day_start is not None:
        _set_setting(conn, t.PRODUCTION_DAY_START, plant.production_day_start)
    bump_metadata_version(conn)
    return {k: len(getattr(plant, k)) for k in ("areas", "lines", "products", "shifts")}


def load_plant_file(db: DatabaseManager, slug: str, path: Path | str, *, today: date) -> dict[str, int]:
    """Validate and apply a plant YAML file to a tenant, then create its line tables.

    `today` (from the injected clock) decides which months get partitions ahead of time.
    """
    try:
        raw = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportRejected(f"cannot read {path}: {exc.__class__.__name__}") from None
    return load_plant_text(db, slug, raw, today=today)


def load_plant_text(db: DatabaseManager, slug: str, raw: str, *, today: date) -> dict[str, int]:
    """Same as load_plant_file, from text already in memory."""
    with db.tenant(slug) as conn:
        plant = parse_plant(
            raw,
            known_areas=set(_codes(conn, t.areas)),
            known_lines=set(_codes(conn, t.lines)),
        )
        counts = apply_plant(conn, plant)
        line_ids = sorted(_codes(conn, t.lines).values())
    with db.tenant(slug) as conn:
        for line_id in line_ids:
            ensure_line_table(conn, line_id, today=today)
    return counts
