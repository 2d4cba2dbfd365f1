"""`seed-demo`: the demo tenant with a realistic plant, dashboard configuration and user."""

from __future__ import annotations

import argparse
import io
import os
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, func, select, text

from cli.base import fail, runtime
from core import migrations
from core import schema_central as c
from core import schema_tenant as t
from core.clock import plant_now
from core.db import parse_db_url
from core.detection_tables import ensure_line_table
from core.errors import NotFound
from core.partitions import months_between
from core.runtime import Runtime
from core.settings import PROJECT_ROOT
from core.tenants import create_tenant, get_tenant
from filters.defaults import DEFAULT_FILTER_ROWS
from identity.ingest_keys import create_key, find_key, rotate_key
from identity.users import create_user, set_password
from ingest.bulk_load import insert_detections
from ingest.dashboard_defaults import DashboardDefaults, install_defaults
from ingest.demo_data import DemoPlan, generate
from ingest.plant_metadata import load_plant_file
from ingest.plant_settings import apply_history_start
from ingest.progress import Progress
from jobs.runs import run_recorded
from widgets.defaults import DEFAULT_WIDGET_ROWS, DEMO_EXTRA_WIDGET_ROWS, DEMO_LAYOUT

DEMO_SLUG = "demo"
DEMO_USER = "demo"
DEMO_PASSWORD = "demo-camet"  # noqa: S105 - documented in README; a demo, never a production account
DEMO_PLANT = PROJECT_ROOT / "config" / "demo_plant.yml"
DEMO_TZ = "America/Argentina/Buenos_Aires"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("seed-demo", help="create/replace the demo tenant with a realistic plant")
    p.add_argument("--days", type=int, default=14, help="days of history ending now (default 14)")
    p.add_argument("--rows", type=int, default=None, help="exactly N detections, spread over --days")
    p.add_argument("--db", default=None, help="tenant DB URL (default: next to the central DB)")
    p.add_argument("--seed", type=int, default=42, help="random seed (same seed, same rows)")
    p.add_argument("--if-missing", action="store_true", help="do nothing if the demo has data")
    p.set_defaults(handler=seed_demo)


def _has_data(rt: Runtime) -> bool:
    if get_tenant(rt.db, DEMO_SLUG) is None:
        return False
    with rt.db.tenant(DEMO_SLUG) as conn:
        line_ids = conn.execute(select(t.lines.c.id)).scalars().all()
        for line_id in line_ids:
            name = t.detections_table_name(line_id)
            if conn.dialect.has_table(conn, name):
                if conn.execute(select(func.count()).select_from(t.detections_table(line_id))).scalar():
                    return True
    return False


def _reset_detections(rt: Runtime) -> None:
    with rt.db.tenant(DEMO_SLUG) as conn:
        for line_id in conn.execute(select(t.lines.c.id)).scalars().all():
            conn.execute(text(f"DROP TABLE IF EXISTS {t.detections_table_name(line_id)}"))
        conn.execute(delete(t.stops))
        conn.execute(delete(t.stops_state))
        conn.execute(delete(t.rollups))
        conn.execute(delete(t.rollups_hourly))
        conn.execute(delete(t.rollups_state))
        conn.execute(delete(t.import_batches))


DEMO_DEFAULTS = DashboardDefaults(
    DEFAULT_FILTER_ROWS, DEFAULT_WIDGET_ROWS + DEMO_EXTRA_WIDGET_ROWS, DEMO_LAYOUT)


def seed_dashboard(rt: Runtime, slug: str) -> None:
    """Replace the tenant's Filters, Widget_catalog and default layout with the demo ones."""
    with rt.db.tenant(slug) as conn:
        install_defaults(conn, DEMO_DEFAULTS, replace=True)


def seed_user(rt: Runtime, slug: str) -> None:
    """Create (or reset) the documented demo login."""
    with rt.db.central() as conn:
        exists = conn.execute(
            select(c.users.c.id)
            .join(c.tenants, c.tenants.c.id == c.users.c.tenant_id)
            .where(c.tenants.c.slug == slug, c.users.c.username == DEMO_USER)
        ).first()
    if exists:
        set_password(rt.db, tenant=slug, username=DEMO_USER, password=DEMO_PASSWORD)
    else:
        create_user(rt.db, tenant=slug, username=DEMO_USER, password=DEMO_PASSWORD, role="admin")


DEMO_KEY_NAME = "simulador"
DEMO_KEY_FILE = "demo_ingest_key.txt"


def seed_ingest_key(rt: Runtime, slug: str) -> Path:
    """A fresh ingest key of every demo line for the simulator, kept in var/ with mode 0600."""
    meta = rt.meta.get(slug)
    try:
        old = find_key(rt.db, tenant=slug, name=DEMO_KEY_NAME)
    except NotFound:
        _record, key = create_key(rt.db, rt.settings, tenant=slug, name=DEMO_KEY_NAME,
                                  lines=list(meta.lines_by_code), known_lines=set(meta.lines_by_code),
                                  actor="seed-demo")
    else:
        _record, key = rotate_key(rt.db, rt.settings, tenant=slug, key_id=old.id, actor="seed-demo")
    path = rt.settings.var_dir / DEMO_KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return path


@dataclass
class SeedResult:
    rows: int
    start: datetime
    end: datetime
    generate_s: float
    load_s: float


def seed_demo_tenant(rt: Runtime, *, days: int, rows: int | None = None, db_url: str | None = None,
                     seed: int = 42, quiet: bool = False, rollups: bool = True) -> SeedResult:
    """Build (or rebuild) the demo tenant; shared by the CLI and the test fixtures.

    `rollups=False` leaves the rollups to the scheduled job (dashboards read the detections by
    push-down until it runs): test fixtures use it because rolling a day costs seconds per test
    and the rollup path has its own exactness tests (tests/query/test_planner.py).
    """
    migrations.upgrade_central(rt.db.central_engine)
    create_tenant(rt.db, DEMO_SLUG, name="Alimentos del Sur (demo)", db_url=db_url, timezone=DEMO_TZ)
    _reset_detections(rt)
    load_plant_file(rt.db, DEMO_SLUG, DEMO_PLANT, today=rt.clock.now_utc().date())
    rt.meta.invalidate(DEMO_SLUG)
    meta = rt.meta.get(DEMO_SLUG)
    seed_dashboard(rt, DEMO_SLUG)
    seed_user(rt, DEMO_SLUG)
    seed_ingest_key(rt, DEMO_SLUG)
    now = plant_now(rt.clock, DEMO_TZ)
    end = now.replace(second=0, microsecond=0)
    plan = DemoPlan(start=end - timedelta(days=days), end=end, seed=seed)
    started = time.perf_counter()
    frames = generate(meta, plan, rows=rows)
    gen_s = time.perf_counter() - started
    total = sum(len(f) for f in frames.values())
    months = months_between(plan.start.date(), plan.end.date())
    with rt.db.tenant(DEMO_SLUG) as conn:
        for line_id in frames:
            ensure_line_table(conn, line_id, months, today=now.date())
    progress = Progress("seeding detections", total, stream=io.StringIO() if quiet else None)
    for line_id, frame in frames.items():
        for i in range(0, len(frame), 200_000):
            chunk = frame.iloc[i:i + 200_000]
            with rt.db.tenant(DEMO_SLUG) as conn:
                insert_detections(conn, line_id, chunk)
            progress.advance(len(chunk))
    load_s = progress.finish()
    if plan.start < now - timedelta(days=rt.settings.plausible_past_days):  # older than the default
        with rt.db.tenant(DEMO_SLUG) as conn:  # history: the plant's history starts with it
            apply_history_start(conn, plan.start.date())
        rt.meta.invalidate(DEMO_SLUG)
    run_recorded(rt, "gap-analysis", DEMO_SLUG)  # a new user sees stops at once
    if rollups:
        run_recorded(rt, "rollups", DEMO_SLUG)  # and dashboards read rollups from the start
    return SeedResult(total, plan.start, plan.end, gen_s, load_s)


def seed_demo(args: argparse.Namespace) -> int:
    """Create tenant 'demo', its plant, dashboard, user and detections; prints timings."""
    if args.days < 1 or args.days > 3660:
        fail("--days must be between 1 and 3660")
    if args.rows is not None and args.rows < 1:
        fail("--rows must be a positive number")
    if args.db:
        parse_db_url(args.db)
    rt = runtime(args)
    migrations.upgrade_central(rt.db.central_engine)
    if args.if_missing and _has_data(rt):
        if not (rt.settings.var_dir / DEMO_KEY_FILE).exists():
            print(f"demo ingest key for the simulator written to {seed_ingest_key(rt, DEMO_SLUG)}")
        print("demo tenant already has data: nothing to do (run `manage.py seed-demo` to rebuild)")
        return 0
    res = seed_demo_tenant(rt, days=args.days, rows=args.rows, db_url=args.db, seed=args.seed)
    meta = rt.meta.get(DEMO_SLUG)
    print(f"demo tenant: {len(meta.lines)} lines, {len(meta.products)} products, {res.rows:,} detections "
          f"from {res.start:%Y-%m-%d %H:%M} to {res.end:%Y-%m-%d %H:%M} ({DEMO_TZ})")
    print(f"generated in {res.generate_s:.1f}s, loaded in {res.load_s:.1f}s "
          f"({res.rows / max(res.load_s, 1e-9):,.0f} rows/s)")
    print(f"login: tenant '{DEMO_SLUG}', user '{DEMO_USER}', password '{DEMO_PASSWORD}'")
    return 0
