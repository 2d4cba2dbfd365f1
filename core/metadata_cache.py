"""MetadataCache: each tenant's static plant configuration held in RAM.

Filters take their options from here and the enrichment step joins names from here, so neither
touches the database per request. Writers bump `meta_state.metadata_version` in the tenant DB;
every process checks that one integer at most every `check_interval_s` and reloads only when it
moved, so an admin's change shows everywhere within seconds without a restart.
"""

from __future__ import annotations

import threading
import time as _time
from dataclasses import dataclass, field
from datetime import time

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from core import schema_central as c
from core import schema_tenant as t
from core.db import DatabaseManager
from core.errors import NotFound


@dataclass(frozen=True, slots=True)
class Area:
    id: int
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class Line:
    id: int
    code: str
    name: str
    area_id: int
    ideal_rate_per_min: float
    micro_stop_s: int
    stop_threshold_s: int
    active: bool = True


@dataclass(frozen=True, slots=True)
class Product:
    id: int
    code: str
    name: str
    nominal_weight_g: float
    line_ids: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class ShiftBreak:
    name: str
    start: time
    end: time


@dataclass(frozen=True, slots=True)
class Shift:
    id: int
    code: str
    name: str
    start: time
    end: time
    breaks: tuple[ShiftBreak, ...] = ()

    @property
    def crosses_midnight(self) -> bool:
        """A 22:00–06:00 shift ends the next calendar day (and belongs to the day it starts)."""
        return self.end <= self.start

    @property
    def start_minute(self) -> int:
        return self.start.hour * 60 + self.start.minute

    @property
    def end_minute(self) -> int:
        return self.end.hour * 60 + self.end.minute


@dataclass(frozen=True)
class TenantMeta:
    """One tenant's metadata snapshot; replaced whole on reload, never mutated."""

    slug: str
    timezone: str
    version: int
    areas: dict[int, Area] = field(default_factory=dict)
    lines: dict[int, Line] = field(default_factory=dict)
    products: dict[int, Product] = field(default_factory=dict)
    shifts: dict[int, Shift] = field(default_factory=dict)

    def line_by_code(self, code: str) -> Line:
        for line in self.lines.values():
            if line.code == code:
                return line
        raise NotFound(f"unknown line {code!r}")

    def product_ids_by_code(self) -> dict[str, int]:
        return {p.code: p.id for p in self.products.values()}


def parse_hhmm(value: str) -> time:
    """'06:00' → time(6, 0); '24:00' is not a time of day."""
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def bump_metadata_version(conn: Connection) -> None:
    """Tell every process that this tenant's metadata changed (call inside the writing tx)."""
    conn.execute(
        update(t.meta_state)
        .where(t.meta_state.c.key == "metadata_version")
        .values(value=t.meta_state.c.value + 1)
    )


def read_version(conn: Connection) -> int:
    value = conn.execute(
        select(t.meta_state.c.value).where(t.meta_state.c.key == "metadata_version")
    ).scalar()
    return int(value or 0)


def load_tenant_meta(conn: Connection, slug: str, timezone: str) -> TenantMeta:
    """Read all metadata of one tenant in a handful of queries."""
    version = read_version(conn)
    areas = {r.id: Area(r.id, r.code, r.name) for r in conn.execute(select(t.areas))}
    lines = {
        r.id: Line(
            r.id, r.code, r.name, r.area_id, float(r.ideal_rate_per_min),
            int(r.micro_stop_s), int(r.stop_threshold_s), bool(r.active),
        )
        for r in conn.execute(select(t.lines).order_by(t.lines.c.id))
    }
    made_on: dict[int, set[int]] = {}
    for r in conn.execute(select(t.line_products)):
        made_on.setdefault(r.product_id, set()).add(r.line_id)
    products = {
        r.id: Product(r.id, r.code, r.name, float(r.nominal_weight_g), frozenset(made_on.get(r.id, ())))
        for r in conn.execute(
            select(t.products).where(t.products.c.active.is_(True)).order_by(t.products.c.id)
        )
    }
    breaks: dict[int, list[ShiftBreak]] = {}
    for r in conn.execute(select(t.shift_breaks).order_by(t.shift_breaks.c.start_time)):
        breaks.setdefault(r.shift_id, []).append(
            ShiftBreak(r.name, parse_hhmm(r.start_time), parse_hhmm(r.end_time))
        )
    shifts = {
        r.id: Shift(
            r.id, r.code, r.name, parse_hhmm(r.start_time), parse_hhmm(r.end_time),
            tuple(breaks.get(r.id, ())),
        )
        for r in conn.execute(select(t.shifts).order_by(t.shifts.c.start_time))
    }
    return TenantMeta(slug, timezone, version, areas, lines, products, shifts)


class MetadataCache:
    """Process-wide, thread-safe cache of TenantMeta, refreshed when the version moves."""

    def __init__(self, db: DatabaseManager, check_interval_s: float = 2.0) -> None:
        self.db = db
        self.check_interval_s = check_interval_s
        self._entries: dict[str, TenantMeta] = {}
        self._checked_at: dict[str, float] = {}
        self._lock = threading.Lock()

    def get(self, slug: str) -> TenantMeta:
        """The tenant's metadata; loads on first use, re-checks the version now and then."""
        meta = self._entries.get(slug)
        now = _time.monotonic()
        if meta is not None and now - self._checked_at.get(slug, 0.0) < self.check_interval_s:
            return meta
        with self._lock:
            meta = self._entries.get(slug)
            if meta is not None and now - self._checked_at.get(slug, 0.0) < self.check_interval_s:
                return meta
            with self.db.tenant(slug) as conn:
                if meta is None or read_version(conn) != meta.version:
                    meta = load_tenant_meta(conn, slug, self._timezone(slug))
            self._entries[slug] = meta
            self._checked_at[slug] = _time.monotonic()
            return meta

    def invalidate(self, slug: str | None = None) -> None:
        """Forget one tenant (or all); the next `get` reloads."""
        with self._lock:
            if slug is None:
                self._entries.clear()
                self._checked_at.clear()
            else:
                self._entries.pop(slug, None)
                self._checked_at.pop(slug, None)

    def _timezone(self, slug: str) -> str:
        with self.db.central() as conn:
            tz = conn.execute(select(c.tenants.c.timezone).where(c.tenants.c.slug == slug)).scalar()
        if tz is None:
            raise NotFound(f"unknown tenant {slug!r}")
        return tz
