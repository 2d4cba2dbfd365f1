"""MetadataCache: each tenant's static plant configuration held in RAM.

Filters take their options from here and the enrichment step joins names from here, so neither
touches the database per request. Writers bump `meta_state.metadata_version` in the tenant DB;
every process checks that one integer at most every `check_interval_s` and reloads only when it
moved, so an admin's change shows everywhere within seconds without a restart.

A `TenantMeta` is an immutable snapshot with every index built at load time (by id, by code,
products by line, lines by area), so each lookup is one dict access. Values derived from a
snapshot (e.g. a filter's option list) are memoised on it with `memo()`; a reload builds a new
snapshot, so memoised values can never go stale.
"""

from __future__ import annotations

import threading
import time as _time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from core import schema_central as c
from core import schema_tenant as t
from core.db import DatabaseManager
from core.errors import NotFound

V = TypeVar("V")


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
    no_data_after_s: int = 900

    @property
    def ideal_cycle_s(self) -> float:
        """Seconds per unit at the nominal rate (the OEE performance reference)."""
        return 60.0 / self.ideal_rate_per_min


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


ALL_WEEKDAYS = frozenset(range(1, 8))


@dataclass(frozen=True, slots=True)
class ClosedDay:
    """A production day the plant (line_id None) or one line does not work."""

    day: date
    line_id: int | None
    name: str


@dataclass(frozen=True, slots=True)
class Shift:
    id: int
    code: str
    name: str
    start: time
    end: time
    breaks: tuple[ShiftBreak, ...] = ()
    weekdays: frozenset[int] = ALL_WEEKDAYS  # ISO weekdays (1 = Monday) on which it is worked

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

    def contains_minute(self, minute_of_day: int) -> bool:
        """True when a time of day (minutes after midnight) falls inside this shift."""
        if self.crosses_midnight:
            return minute_of_day >= self.start_minute or minute_of_day < self.end_minute
        return self.start_minute <= minute_of_day < self.end_minute


@dataclass(frozen=True, slots=True)
class Target:
    """A production target of a line, optionally for one shift and/or one product."""

    line_id: int
    shift_id: int | None
    product_id: int | None
    units_per_shift: int | None
    oee: float | None


@dataclass(frozen=True, slots=True)
class StopReason:
    """A reason code a supervisor can give a stop (inactive ones still name old labels)."""

    id: int
    code: str
    name: str
    active: bool = True


def _index(items: Iterable[Any], attr: str) -> dict[Any, Any]:
    return {getattr(item, attr): item for item in items}


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
    closed_days: tuple[ClosedDay, ...] = ()
    targets: tuple[Target, ...] = ()
    # --- production day: the stored setting; None = the earliest shift start ---
    production_day_start: time | None = None
    # --- stop reasons: the codes a stop can be labelled with ---
    stop_reasons: dict[int, StopReason] = field(default_factory=dict)
    history_start: date | None = None  # the plant's start of history; None: a rolling default
    lines_by_code: dict[str, Line] = field(init=False, repr=False, compare=False)
    products_by_code: dict[str, Product] = field(init=False, repr=False, compare=False)
    shifts_by_code: dict[str, Shift] = field(init=False, repr=False, compare=False)
    stop_reasons_by_code: dict[str, StopReason] = field(init=False, repr=False, compare=False)
    products_by_line: dict[int, frozenset[int]] = field(init=False, repr=False, compare=False)
    lines_by_area: dict[int, frozenset[int]] = field(init=False, repr=False, compare=False)
    _memo: dict[Any, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_line: dict[int, set[int]] = {line_id: set() for line_id in self.lines}
        for product in self.products.values():
            for line_id in product.line_ids:
                by_line.setdefault(line_id, set()).add(product.id)
        by_area: dict[int, set[int]] = {area_id: set() for area_id in self.areas}
        for line in self.lines.values():
            by_area.setdefault(line.area_id, set()).add(line.id)
        derived = {
            "lines_by_code": _index(self.lines.values(), "code"),
            "products_by_code": _index(self.products.values(), "code"),
            "shifts_by_code": _index(self.shifts.values(), "code"),
            "stop_reasons_by_code": _index(self.stop_reasons.values(), "code"),
            "products_by_line": {k: frozenset(v) for k, v in by_line.items()},
            "lines_by_area": {k: frozenset(v) for k, v in by_area.items()},
            "_memo": {},
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)

    # --- production day: it starts at the stored setting, else at the earliest shift ---
    @property
    def day_start(self) -> time:
        """When this plant's production day starts: the setting, else its earliest shift start."""
        if self.production_day_start is not None:
            return self.production_day_start
        return min((s.start for s in self.shifts.values()), default=time(0))

    @property
    def day_offset(self) -> timedelta:
        """The production day start as a distance from local midnight."""
        return timedelta(hours=self.day_start.hour, minutes=self.day_start.minute)

    def line_by_code(self, code: str) -> Line:
        """The line with this code, or NotFound."""
        line = self.lines_by_code.get(code)
        if line is None:
            raise NotFound(f"unknown line {code!r}")
        return line

    def is_closed(self, line_id: int, day: date) -> bool:
        """True when `day` is a plant-closed day or a closed day of this line."""
        closed = self.memo("closed_days", lambda: {(c.day, c.line_id) for c in self.closed_days})
        return (day, None) in closed or (day, line_id) in closed

    def product_ids_by_code(self) -> dict[str, int]:
        return {code: p.id for code, p in self.products_by_code.items()}

    def memo(self, key: object, factory: Callable[[], V]) -> V:
        """A value derived from this snapshot, computed once; callers must not mutate it."""
        try:
            return self._memo[key]
        except KeyError:
            return self._memo.setdefault(key, factory())


def parse_hhmm(value: str) -> time:
    """'06:00' → time(6, 0); '24:00' is not a time of day."""
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def parse_weekdays(value: str | None) -> frozenset[int]:
    """'123456' (ISO weekday digits, as stored) → {1..6}; empty or NULL means every day."""
    days = frozenset(int(ch) for ch in (value or "") if ch in "1234567")
    return days or ALL_WEEKDAYS


def bump_metadata_version(conn: Connection) -> None:
    """Tell every process that this tenant's metadata changed (call inside the writing tx)."""
    conn.execute(
        update(t.meta_state)
        .where(t.meta_state.c.key == "metadata_version")
        .values(value=t.meta_state.c.value + 1)
    )


def read_version(conn: Connection) -> int:
    """The tenant's metadata version: one primary-key lookup, cheap enough to poll."""
    value = conn.execute(
        select(t.meta_state.c.value).where(t.meta_state.c.key == "metadata_version")
    ).scalar()
    return int(value or 0)


def load_tenant_meta(conn: Connection, slug: str, timezone: str) -> TenantMeta:
    """Read all metadata of one tenant in a handful of queries (version first, data after)."""
    version = read_version(conn)
    areas = {r.id: Area(r.id, r.code, r.name) for r in conn.execute(select(t.areas).order_by(t.areas.c.id))}
    lines = {
        r.id: Line(
            r.id, r.code, r.name, r.area_id, float(r.ideal_rate_per_min),
            int(r.micro_stop_s), int(r.stop_threshold_s), bool(r.active),
            no_data_after_s=int(r.no_data_after_s),
        )
        for r in conn.execute(select(t.lines).order_by(t.lines.c.id))
    }
    made_on: dict[int, set[int]] = {}
    for product_id, line_id in conn.execute(select(t.line_products.c.product_id, t.line_products.c.line_id)):
        made_on.setdefault(product_id, set()).add(line_id)
    no_lines: frozenset[int] = frozenset()
    p = t.products.c
    products = {
        pid: Product(pid, code, name, float(weight), frozenset(made_on[pid]) if pid in made_on else no_lines)
        for pid, code, name, weight in conn.execute(
            select(p.id, p.code, p.name, p.nominal_weight_g).where(p.active.is_(True)).order_by(p.id)
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
            tuple(breaks.get(r.id, ())), parse_weekdays(r.weekdays),
        )
        for r in conn.execute(select(t.shifts).order_by(t.shifts.c.start_time))
    }
    cd = t.closed_days.c
    closed = tuple(
        ClosedDay(r.day, r.line_id, r.name)
        for r in conn.execute(select(cd.day, cd.line_id, cd.name).order_by(cd.day, cd.id))
    )
    tg = t.targets.c
    targets = tuple(
        Target(r.line_id, r.shift_id, r.product_id, r.units_per_shift, r.oee)
        for r in conn.execute(select(tg.line_id, tg.shift_id, tg.product_id, tg.units_per_shift, tg.oee)
                              .order_by(tg.id))
    )
    settings = _plant_settings(conn)
    day_start, history = settings.get(t.PRODUCTION_DAY_START), settings.get(t.HISTORY_START)
    sr = t.stop_reasons.c
    reasons = {r.id: StopReason(r.id, r.code, r.name, bool(r.active))
               for r in conn.execute(select(sr.id, sr.code, sr.name, sr.active).order_by(sr.id))}
    return TenantMeta(
        slug, timezone, version, areas, lines, products, shifts, closed, targets,
        production_day_start=parse_hhmm(day_start) if day_start else None,
        stop_reasons=reasons, history_start=date.fromisoformat(history) if history else None,
    )


def _plant_settings(conn: Connection) -> dict[str, str]:
    """The tenant's key/value plant settings (production day start, ...)."""
    return {r.key: r.value for r in conn.execute(select(t.plant_settings.c.key, t.plant_settings.c.value))}


@dataclass
class CacheStats:
    """Counters for tests and benchmarks: full loads vs cheap version checks."""

    loads: int = 0
    version_checks: int = 0


@dataclass(frozen=True, slots=True)
class _Entry:
    meta: TenantMeta
    checked_at: float


class MetadataCache:
    """Process-wide, thread-safe cache of TenantMeta, refreshed when the version moves.

    Reads take no lock while the entry is fresh; a stale or missing entry is refreshed under a
    per-tenant lock, so a slow reload of one tenant never blocks requests of another, and
    concurrent first requests of one tenant load it once.
    """

    def __init__(
        self,
        db: DatabaseManager,
        check_interval_s: float = 2.0,
        clock: Callable[[], float] = _time.monotonic,
    ) -> None:
        self.db = db
        self.check_interval_s = check_interval_s
        self.clock = clock
        self.stats = CacheStats()
        self._entries: dict[str, _Entry] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def get(self, slug: str, conn: Connection | None = None) -> TenantMeta:
        """The tenant's metadata; loads on first use, re-checks the version now and then.

        Pass `conn` (an open connection to this tenant's DB) to run the check on it instead of
        opening a new connection.
        """
        entry = self._entries.get(slug)
        if entry is not None and self.clock() - entry.checked_at < self.check_interval_s:
            return entry.meta
        with self._lock_for(slug):
            entry = self._entries.get(slug)
            if entry is not None and self.clock() - entry.checked_at < self.check_interval_s:
                return entry.meta
            if conn is not None:
                meta = self._refresh(conn, slug, entry)
            else:
                with self.db.tenant(slug) as own:
                    meta = self._refresh(own, slug, entry)
            self._entries[slug] = _Entry(meta, self.clock())
            return meta

    def invalidate(self, slug: str | None = None) -> None:
        """Forget one tenant (or all); the next `get` reloads."""
        if slug is None:
            self._entries.clear()
        else:
            self._entries.pop(slug, None)

    def _refresh(self, conn: Connection, slug: str, entry: _Entry | None) -> TenantMeta:
        if entry is not None:
            self.stats.version_checks += 1
            if read_version(conn) == entry.meta.version:
                return entry.meta
        self.stats.loads += 1
        return load_tenant_meta(conn, slug, self._timezone(slug))

    def _lock_for(self, slug: str) -> threading.Lock:
        lock = self._locks.get(slug)
        if lock is None:
            with self._locks_guard:
                lock = self._locks.setdefault(slug, threading.Lock())
        return lock

    def _timezone(self, slug: str) -> str:
        with self.db.central() as conn:
            tz = conn.execute(select(c.tenants.c.timezone).where(c.tenants.c.slug == slug)).scalar()
        if tz is None:
            raise NotFound(f"unknown tenant {slug!r}")
        return tz
