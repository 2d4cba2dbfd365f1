"""Shared helpers for the dashboard tests: tokens, plain-SQL truths, manifests."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, text

from core import schema_tenant as t
from core.clock import plant_now
from core.metadata_cache import TenantMeta
from core.runtime import Runtime
from core.shift_calendar import ShiftInstance, shift_instances
from core.timeutil import zone
from identity.engine_tokens import Principal, issue_token
from identity.users import find_user

# The demo plant's production day starts at 06:00 (config/demo_plant.yml, production_day_start).
DEMO_DAY_START = timedelta(hours=6)


def demo_principal(rt: Runtime, slug: str = "demo", username: str = "demo") -> Principal:
    user = find_user(rt.db, tenant=slug, username=username)
    return Principal(user.id, user.username, slug, user.role)


def bearer(rt: Runtime, principal: Principal) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(rt.settings, principal)}"}


def data_days(rt: Runtime, slug: str) -> tuple[date, date]:
    """First and last production day with detections, by plain SQL over every line table."""
    lows, highs = [], []
    with rt.db.tenant(slug) as conn:
        for line_id in line_ids(rt, slug):
            row = conn.execute(text(f"SELECT MIN(ts), MAX(ts) FROM detections_{line_id}")).one()
            if row[0] is not None:
                lows.append(_dt(row[0]))
                highs.append(_dt(row[1]))
    return (min(lows) - DEMO_DAY_START).date(), (max(highs) - DEMO_DAY_START).date()


def _worked_instances(meta: TenantMeta, now: datetime) -> list[ShiftInstance]:
    """Shift instances with planned time of every active line over the week up to `now`."""
    first = now.date() - timedelta(days=8)
    return [inst for line in meta.lines.values() if line.active
            for inst in shift_instances(meta, line.id, first, now.date()) if inst.planned]


def last_worked_moment(meta: TenantMeta, now: datetime) -> datetime:
    """`now` if a line is planned to produce at that moment, else one minute before the last
    planned production ended (a clock on a Sunday or a closed day reads the last worked shift)."""
    ended = []
    for inst in _worked_instances(meta, now):
        for start, end in inst.planned:
            if start <= now < end:
                return now
            if end <= now:
                ended.append(end)
    return max(ended) - timedelta(minutes=1)


def last_complete_day(meta: TenantMeta, now: datetime) -> date:
    """The last production date with planned time that is over at `now` and followed by a worked
    shift that has begun (so a later detection has closed its last stop)."""
    instances = _worked_instances(meta, now)
    ends: dict[date, datetime] = {}
    for inst in instances:
        ends[inst.production_date] = max(ends.get(inst.production_date, inst.end), inst.end)
    return max(day for day, end in ends.items()
               if end <= now and any(end <= inst.start <= now for inst in instances))


def days_back_to(meta: TenantMeta, now: datetime, day: date) -> int:
    """Whole days of history ending `now` that start inside production date `day`."""
    start = datetime.combine(day, datetime.min.time()) + meta.day_offset
    return (now - start) // timedelta(days=1)


def move_to_last_worked_moment(rt: Runtime, slug: str) -> datetime:
    """Set the runtime's clock back to `last_worked_moment` of the tenant's calendar (a no-op when
    the plant works now); returns that moment in plant time."""
    meta = rt.meta.get(slug)
    moment = last_worked_moment(meta, plant_now(rt.clock, meta.timezone))
    rt.clock.set(moment.replace(tzinfo=zone(meta.timezone)))
    return moment


def line_ids(rt: Runtime, slug: str) -> list[int]:
    with rt.db.tenant(slug) as conn:
        return [int(i) for i in conn.execute(select(t.lines.c.id).order_by(t.lines.c.id)).scalars()]


def truth(
    rt: Runtime, slug: str, start: date, end: date, lines: list[int], day_start: timedelta = DEMO_DAY_START
) -> dict:
    """Independent plain SQL: per line count, weight sum, rejects over production days [start, end]."""
    lo = datetime.combine(start, datetime.min.time()) + day_start
    hi = datetime.combine(end + timedelta(days=1), datetime.min.time()) + day_start
    out = {}
    with rt.db.tenant(slug) as conn:
        for line_id in lines:
            units, weight, rejects = conn.execute(
                text(f"SELECT COUNT(*), SUM(weight_g), SUM(CASE WHEN status = 1 THEN 1 ELSE 0 END) "
                     f"FROM detections_{line_id} WHERE ts >= :lo AND ts < :hi"),
                {"lo": lo, "hi": hi},
            ).one()
            name = conn.execute(select(t.lines.c.name).where(t.lines.c.id == line_id)).scalar()
            out[line_id] = {"name": name, "units": int(units), "kg": float(weight or 0) / 1000,
                            "rejects": int(rejects or 0)}
    return out


def write_manifest(path: Path, fx_url: str, timeout_s: float = 2.0) -> Path:
    """A manifest whose fx_rates is a test server on 127.0.0.1 (so marked internal)."""
    path.write_text(f"apis:\n  fx_rates:\n    url: {fx_url}\n    timeout_s: {timeout_s}\n"
                    "    internal: true\n    cache_ttl_s: 0\n" + ERP_ENTRIES)
    return path


# The demo ERP of the shipped manifest, served in-process by the engine under test.
ERP_ENTRIES = ("  erp_plans:\n    url: /api/v1/demo/erp/plans\n"
               "  erp_orders:\n    url: /api/v1/demo/erp/orders\n")
ERP_WIDGETS = {"PlanVsActualWidget", "OpenOrdersWidget"}


def _dt(value: object) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
