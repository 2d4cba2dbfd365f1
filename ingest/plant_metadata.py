"""Plant metadata from a YAML file: areas, lines, products, shifts, closed days, targets and stop
reasons, upserted.

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
from core.rollups_state import mark_products_dirty
from core.stops_state import FROM_START, mark_dirty
from ingest import plant_settings as ps

CODE = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$"
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
WEEKDAY_NAMES = {"lun": 1, "mar": 2, "mie": 3, "mié": 3, "jue": 4, "vie": 5, "sab": 6, "sáb": 6, "dom": 7}


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
    # live status: no detection for this long during planned time reads "sin datos"
    no_data_after_s: int = Field(default=900, ge=1, le=86_400)

    @model_validator(mode="after")
    def _thresholds(self) -> LineIn:
        if self.micro_stop_s >= self.stop_threshold_s:
            raise ValueError("micro_stop_s must be smaller than stop_threshold_s")
        if self.no_data_after_s <= self.stop_threshold_s:
            raise ValueError("no_data_after_s must be larger than stop_threshold_s")
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
    weekdays: list[int | str] | None = None

    _check = field_validator("start", "end")(_hhmm)

    @field_validator("weekdays")
    @classmethod
    def _weekdays(cls, value: list[int | str] | None) -> list[int | str] | None:
        if value is None:
            return None
        days = [WEEKDAY_NAMES.get(v.strip().lower(), 0) if isinstance(v, str) else v for v in value]
        if not days or any(not isinstance(d, int) or not 1 <= d <= 7 for d in days):
            raise ValueError("must list weekdays as 1-7 (1 = Monday) or lun, mar, mie, jue, vie, sab, dom")
        return sorted(set(days))

    @model_validator(mode="after")
    def _not_empty(self) -> ShiftIn:
        if self.start == self.end:
            raise ValueError("start and end must differ")
        return self

    def weekdays_text(self) -> str:
        """ISO weekday digits as stored ('1234567' when every day is worked)."""
        return "".join(str(d) for d in (self.weekdays or range(1, 8)))


class ClosedDayIn(_Strict):
    date: date
    name: str = Field(min_length=1, max_length=200)
    lines: list[str] = Field(default_factory=list)


class TargetIn(_Strict):
    """A production target: a line's units per shift and/or OEE, optionally per shift/product."""

    line: str
    shift: str | None = None
    product: str | None = None
    units_per_shift: int | None = Field(default=None, ge=1, le=10_000_000)
    oee: float | None = Field(default=None, gt=0, le=1)

    @model_validator(mode="after")
    def _some_target(self) -> TargetIn:
        if self.units_per_shift is None and self.oee is None:
            raise ValueError("a target needs units_per_shift or oee")
        return self

    @property
    def key(self) -> tuple[str, str | None, str | None]:
        return self.line, self.shift, self.product


class StopReasonIn(_Strict):
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=200)
    active: bool = True


class PlantIn(_Strict):
    areas: list[AreaIn] = Field(default_factory=list)
    lines: list[LineIn] = Field(default_factory=list)
    products: list[ProductIn] = Field(default_factory=list)
    shifts: list[ShiftIn] = Field(default_factory=list)
    closed_days: list[ClosedDayIn] = Field(default_factory=list)
    targets: list[TargetIn] = Field(default_factory=list)
    stop_reasons: list[StopReasonIn] = Field(default_factory=list)
    # --- production day: when the plant's day starts; absent = earliest shift ---
    production_day_start: str | None = None
    history_start: date | None = None  # the plant's start of history; absent = kept as stored

    @field_validator("production_day_start")
    @classmethod
    def _day_start(cls, value: str | None) -> str | None:
        return None if value is None else _hhmm(value)

    _history = field_validator("history_start")(ps.history_from_1970)




def _unique(items: list[Any], kind: str, errors: list[str]) -> None:
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item.code in seen:
            errors.append(f"{kind}[{i}].code: duplicate code {item.code!r}")
        seen.add(item.code)


def parse_plant(
    raw_text: str, *, known_areas: set[str] = frozenset(), known_lines: set[str] = frozenset(),
    known_shifts: set[str] = frozenset(), known_products: set[str] = frozenset(),
) -> PlantIn:
    """Parse and validate a plant file; every problem is reported with its path."""
    try:
        data = yaml.safe_load(raw_text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ImportRejected(f"not valid YAML{where}") from None
    except ValueError as exc:  # e.g. a date such as 2026-13-01 fails inside the YAML loader
        raise ImportRejected(f"not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ImportRejected("the plant file must be a mapping with areas, lines, products, shifts")
    try:
        plant = PlantIn.model_validate(data)
    except ValidationError as exc:
        msgs = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise ImportRejected("invalid plant file", details=msgs) from None
    errors = cross_check(plant, known_areas=known_areas, known_lines=known_lines,
                         known_shifts=known_shifts, known_products=known_products)
    if errors:
        raise ImportRejected("invalid plant file", details=errors)
    return plant


def cross_check(plant: PlantIn, *, known_areas: set[str], known_lines: set[str],
                known_shifts: set[str] = frozenset(), known_products: set[str] = frozenset()) -> list[str]:
    """What the models alone cannot see: duplicate codes and references to unknown codes.

    Shared by the YAML loader and the admin API (which passes one entity and the stored codes).
    """
    errors: list[str] = []
    for kind in ("areas", "lines", "products", "shifts", "stop_reasons"):
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
        if len(set(product.lines)) != len(product.lines):
            errors.append(f"products[{i}].lines: a line is listed twice")
    for i, closed in enumerate(plant.closed_days):
        for code in closed.lines:
            if code not in lines:
                errors.append(f"closed_days[{i}].lines: unknown line {code!r}")
    _check_targets(plant, lines, known_shifts | {s.code for s in plant.shifts},
                   known_products | {p.code for p in plant.products}, errors)
    return errors


def _check_targets(plant: PlantIn, lines: set[str], shifts: set[str], products: set[str],
                   errors: list[str]) -> None:
    """Every target names known codes, at most once per (line, shift, product)."""
    seen: set[tuple[str, str | None, str | None]] = set()
    for i, target in enumerate(plant.targets):
        if target.line not in lines:
            errors.append(f"targets[{i}].line: unknown line {target.line!r}")
        if target.shift is not None and target.shift not in shifts:
            errors.append(f"targets[{i}].shift: unknown shift {target.shift!r}")
        if target.product is not None and target.product not in products:
            errors.append(f"targets[{i}].product: unknown product {target.product!r}")
        if target.key in seen:
            errors.append(f"targets[{i}]: duplicate target for {target.key!r}")
        seen.add(target.key)


def _upsert(conn: Connection, table, code: str, values: dict[str, Any]) -> int:  # noqa: ANN001
    existing = conn.execute(select(table.c.id).where(table.c.code == code)).scalar()
    if existing is None:
        return conn.execute(insert(table).values(code=code, **values)).inserted_primary_key[0]
    conn.execute(update(table).where(table.c.id == existing).values(**values))
    return existing


def _codes(conn: Connection, table) -> dict[str, int]:  # noqa: ANN001
    return {r.code: r.id for r in conn.execute(select(table.c.code, table.c.id))}


def _thresholds(conn: Connection) -> dict[int, tuple[int, int]]:
    rows = conn.execute(select(t.lines.c.id, t.lines.c.micro_stop_s, t.lines.c.stop_threshold_s))
    return {r.id: (r.micro_stop_s, r.stop_threshold_s) for r in rows}


def _nominals(conn: Connection) -> dict[int, float]:
    """Nominal weight per product: rollups (under/over, histogram) depend on it."""
    return dict(conn.execute(select(t.products.c.id, t.products.c.nominal_weight_g)).all())


def _calendar(conn: Connection) -> tuple:
    """Everything planned time depends on, to notice a change that invalidates `stops`."""
    s, b, c = t.shifts.c, t.shift_breaks.c, t.closed_days.c
    return (
        sorted(tuple(r) for r in conn.execute(select(s.id, s.start_time, s.end_time, s.weekdays))),
        sorted(tuple(r) for r in conn.execute(select(b.shift_id, b.start_time, b.end_time))),
        sorted((r.day.isoformat(), r.line_id or 0) for r in conn.execute(select(c.day, c.line_id))),
    )


def _apply_closed_days(conn: Connection, plant: PlantIn, line_ids: dict[str, int]) -> None:
    c = t.closed_days.c
    for closed in plant.closed_days:
        for line_id in [line_ids[code] for code in closed.lines] or [None]:
            same_line = c.line_id.is_(None) if line_id is None else c.line_id == line_id
            conn.execute(delete(t.closed_days).where(c.day == closed.date, same_line))
            conn.execute(insert(t.closed_days).values(day=closed.date, line_id=line_id, name=closed.name))


def _apply_targets(conn: Connection, plant: PlantIn, line_ids: dict[str, int]) -> None:
    """Replace each listed (line, shift, product) target; targets not listed stay."""
    shift_ids, product_ids = _codes(conn, t.shifts), _codes(conn, t.products)
    g = t.targets.c
    for target in plant.targets:
        shift_id = shift_ids[target.shift] if target.shift else None
        product_id = product_ids[target.product] if target.product else None
        conn.execute(delete(t.targets).where(
            g.line_id == line_ids[target.line],
            g.shift_id.is_(None) if shift_id is None else g.shift_id == shift_id,
            g.product_id.is_(None) if product_id is None else g.product_id == product_id))
        conn.execute(insert(t.targets).values(line_id=line_ids[target.line], shift_id=shift_id,
                                              product_id=product_id, oee=target.oee,
                                              units_per_shift=target.units_per_shift))


def apply_plant(conn: Connection, plant: PlantIn) -> dict[str, int]:
    """Write a validated plant in the caller's transaction; returns counts per kind.

    Changed stop thresholds or calendar (shifts, breaks, weekdays, closed days) mark the
    affected lines' stops for re-analysis from the start; changed nominal weights mark the
    rollups that hold those products; a changed history start every line's stops from the
    earlier of the two starts.
    """
    thresholds_before, calendar_before, nominal_before = _thresholds(conn), _calendar(conn), _nominals(conn)
    for area in plant.areas:
        _upsert(conn, t.areas, area.code, {"name": area.name})
    area_ids = _codes(conn, t.areas)
    for line in plant.lines:
        _upsert(conn, t.lines, line.code, {
            "name": line.name, "area_id": area_ids[line.area],
            "ideal_rate_per_min": line.ideal_rate_per_min, "micro_stop_s": line.micro_stop_s,
            "stop_threshold_s": line.stop_threshold_s, "active": line.active,
            "no_data_after_s": line.no_data_after_s,
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
            "weekdays": shift.weekdays_text(),
        })
        conn.execute(delete(t.shift_breaks).where(t.shift_breaks.c.shift_id == sid))
        if shift.breaks:
            conn.execute(insert(t.shift_breaks), [
                {"shift_id": sid, "name": b.name, "start_time": b.start, "end_time": b.end}
                for b in shift.breaks
            ])
    _apply_closed_days(conn, plant, line_ids)
    _apply_targets(conn, plant, line_ids)
    for reason in plant.stop_reasons:
        _upsert(conn, t.stop_reasons, reason.code, {"name": reason.name, "active": reason.active})
    nominal_after = _nominals(conn)  # rollups marks first: the lock order of every writer
    mark_products_dirty(conn, [i for i, g in nominal_after.items() if nominal_before.get(i, g) != g])
    thresholds_after = _thresholds(conn)
    if _calendar(conn) != calendar_before:
        mark_dirty(conn, thresholds_after, FROM_START)
    else:
        changed = [i for i, v in thresholds_after.items() if thresholds_before.get(i, v) != v]
        mark_dirty(conn, changed, FROM_START)
    if plant.production_day_start is not None:
        ps.set_plant_setting(conn, t.PRODUCTION_DAY_START, plant.production_day_start)
    if plant.history_start is not None:
        ps.apply_history_start(conn, plant.history_start)
    bump_metadata_version(conn)
    return {k: len(getattr(plant, k))
            for k in ("areas", "lines", "products", "shifts", "closed_days", "targets", "stop_reasons")}


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
            known_shifts=set(_codes(conn, t.shifts)),
            known_products=set(_codes(conn, t.products)),
        )
        errors = ps.check_history_start(plant.history_start, today)
        if errors:
            raise ImportRejected("invalid plant file", details=errors)
        counts = apply_plant(conn, plant)
        line_ids = sorted(_codes(conn, t.lines).values())
    with db.tenant(slug) as conn:
        for line_id in line_ids:
            ensure_line_table(conn, line_id, today=today)
    return counts
