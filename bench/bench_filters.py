"""Benchmark: filter options from the MetadataCache, and loading a large tenant's metadata.

Synthetic tenant: 50 lines in 10 areas, 2,000 products (each made on 1-3 lines), 6 shifts of
4 h (one crossing midnight), created with ingest.plant_metadata.load_plant_text on SQLite and, when
reachable, MariaDB (CAMET_BENCH_MYSQL_URL, default mysql+pymysql://root@127.0.0.1:3306/test).

Reports: options() median per filter, warm (memoised on the snapshot) and cold (first call on
a fresh snapshot), against the 50 µs target; a full tenant load vs the cheap version check;
and, as the baseline in the same run, building the product options with a SQL query per
request (what the cache avoids).

    .venv/bin/python bench/bench_filters.py [--repeat 30]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy  # noqa: E402
import yaml  # noqa: E402
from sqlalchemy import select, text  # noqa: E402

from bench._common import central_db_url, drop_databases, machine_info, print_machine  # noqa: E402
from core import migrations  # noqa: E402
from core import schema_tenant as t  # noqa: E402
from core.db import build_engine, parse_db_url  # noqa: E402
from core.metadata_cache import MetadataCache, TenantMeta, load_tenant_meta  # noqa: E402
from core.runtime import build_runtime  # noqa: E402
from core.settings import load_settings  # noqa: E402
from core.tenants import create_tenant  # noqa: E402
from filters import build_filter_set  # noqa: E402
from filters.defaults import DEFAULT_FILTER_ROWS  # noqa: E402
from ingest.plant_metadata import load_plant_text  # noqa: E402

N_AREAS, N_LINES, N_PRODUCTS, N_SHIFTS = 10, 50, 2000, 6
TARGET_US = 50.0
SLUG = "bench"


def plant_yaml(seed: int = 7) -> str:
    rng = random.Random(seed)
    areas = [{"code": f"A{i:02d}", "name": f"Área {i}"} for i in range(N_AREAS)]
    lines = [
        {"code": f"L{i:02d}", "name": f"Línea {i}", "area": f"A{i % N_AREAS:02d}",
         "ideal_rate_per_min": rng.choice([24, 45, 60, 90])}
        for i in range(N_LINES)
    ]
    products = [
        {"code": f"P{i:04d}", "name": f"Producto {i} {rng.choice(['papas', 'galletitas', 'chizitos'])}",
         "nominal_weight_g": rng.choice([35, 45, 90, 150, 300]),
         "lines": sorted(rng.sample([line["code"] for line in lines], rng.randint(1, 3)))}
        for i in range(N_PRODUCTS)
    ]
    shifts = [
        {"code": f"T{i}", "name": f"Turno {i}", "start": f"{(2 + 4 * i) % 24:02d}:00",
         "end": f"{(6 + 4 * i) % 24:02d}:00"}
        for i in range(N_SHIFTS)
    ]
    return yaml.safe_dump({"areas": areas, "lines": lines, "products": products, "shifts": shifts},
                          allow_unicode=True)


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def per_call(fn, calls: int, repeat: int) -> list[float]:
    """Seconds per call, from `repeat` batches of `calls` calls (timer overhead amortised)."""
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        out.append((time.perf_counter() - start) / calls)
    return out


def med_us(samples: list[float]) -> float:
    return statistics.median(samples) * 1e6


def med_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1e3


def setup(backend: str, var_dir: Path, mysql_url: str) -> tuple[object, str | None]:
    prefix = f"cb_{uuid.uuid4().hex[:8]}" if backend == "mysql" else None
    central = central_db_url(backend, mysql_url, prefix) if prefix else ""
    settings = load_settings(env="test", var_dir=var_dir, central_db_url=central,
                             secret_key="b" * 40, jwt_secret="c" * 40)
    rt = build_runtime(settings)
    migrations.upgrade_central(rt.db.central_engine)
    create_tenant(rt.db, SLUG, name="Bench", timezone="America/Argentina/Buenos_Aires")
    return rt, prefix


def fresh_copy(meta: TenantMeta) -> TenantMeta:
    m = meta
    return TenantMeta(m.slug, m.timezone, m.version, m.areas, m.lines, m.products, m.shifts)


def product_options_from_sql(rt) -> list[dict]:
    """Baseline: what a filter without the cache would do on every request."""
    with rt.db.tenant(SLUG) as conn:
        made_on: dict[int, list[int]] = {}
        for r in conn.execute(select(t.line_products.c.product_id, t.line_products.c.line_id)):
            made_on.setdefault(r.product_id, []).append(r.line_id)
        rows = conn.execute(select(t.products.c.id, t.products.c.code, t.products.c.name)
                            .order_by(t.products.c.code)).all()
    return [{"value": r.id, "label": r.name, "code": r.code, "line_ids": sorted(made_on.get(r.id, []))}
            for r in rows]


def run_backend(backend: str, repeat: int, mysql_url: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        rt, prefix = setup(backend, Path(tmp), mysql_url)
        try:
            return measure(rt, backend, repeat)
        finally:
            rt.db.dispose()
            if prefix:
                drop_databases(mysql_url, prefix)


def measure(rt, backend: str, repeat: int) -> dict[str, float]:
    raw = plant_yaml()
    start = time.perf_counter()
    counts = load_plant_text(rt.db, SLUG, raw, today=rt.clock.now_utc().date())
    write_s = time.perf_counter() - start
    print(f"\n== {backend} ==  plant written in {write_s:.2f} s: {counts}")

    cold_get = timed(lambda: MetadataCache(rt.db).get(SLUG), repeat)
    with rt.db.tenant(SLUG) as conn:
        load_only = timed(lambda: load_tenant_meta(conn, SLUG, "America/Argentina/Buenos_Aires"), repeat)
    cache = MetadataCache(rt.db, check_interval_s=0.0)
    meta = cache.get(SLUG)
    check = timed(lambda: cache.get(SLUG), repeat)
    with rt.db.tenant(SLUG) as conn:
        check_on_conn = timed(lambda: cache.get(SLUG, conn=conn), repeat)
    assert cache.stats.loads == 1, "the version did not move: a check must not reload"
    tracemalloc.start()
    with rt.db.tenant(SLUG) as conn:
        load_tenant_meta(conn, SLUG, meta.timezone)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    pairs = sum(len(p.line_ids) for p in meta.products.values())
    print(f"sizes: {len(meta.areas)} areas, {len(meta.lines)} lines, {len(meta.products)} products, "
          f"{len(meta.shifts)} shifts, {pairs} line-product pairs")
    print(f"tenant load, new cache + connection (median of {repeat}): {med_ms(cold_get):8.2f} ms")
    print(f"tenant load, queries + build on an open connection:     {med_ms(load_only):8.2f} ms"
          f"  (peak Python alloc {peak / 1e6:.1f} MB)")
    print(f"version check (connect + 1 PK lookup), no reload:       {med_ms(check):8.2f} ms"
          f"  → full load / check = {med_ms(cold_get) / med_ms(check):.1f}x")
    print(f"version check on the request's open connection (route):   {med_ms(check_on_conn):8.3f} ms"
          f"  → full load / check = {med_ms(cold_get) / med_ms(check_on_conn):.0f}x")

    rows = [dict(r, id=i) for i, r in enumerate(DEFAULT_FILTER_ROWS)]
    fs = build_filter_set(rows, meta)
    assert not fs.errors
    calls = 2000
    print(f"{'filter':<20}{'class':<20}{'options':>8}{'warm µs':>10}{'cold µs':>10}{'vs target':>11}")
    result: dict[str, float] = {}
    for f in fs.filters:
        warm = per_call(f.options, calls, repeat)
        cold = []
        for _ in range(repeat):
            config = f.config.model_dump()
            f_cold = type(f)(param=f.param, label=f.label, config=config, meta=fresh_copy(meta))
            cold += timed(f_cold.options, 1)
        result[f.param] = med_us(warm)
        print(f"{f.param:<20}{type(f).__name__:<20}{len(f.options()):>8}{med_us(warm):>10.2f}{med_us(cold):>10.1f}"
              f"{med_us(warm) / TARGET_US:>10.3f}x")
    baseline = timed(lambda: product_options_from_sql(rt), repeat)
    warm_products = result["productos"]
    print(f"baseline: product options by SQL per request: {med_ms(baseline):.2f} ms"
          f" → {med_ms(baseline) * 1e3 / warm_products:,.0f}x the cached options()")

    build = per_call(lambda: build_filter_set(rows, meta), 50, repeat)
    describe = per_call(fs.describe, 200, repeat)
    body = json.dumps(fs.describe(), ensure_ascii=False)
    lines = sorted(meta.lines)[:3]
    products = sorted(set().union(*(meta.products_by_line[i] for i in lines)))
    request = {"fecha": {"start": "2026-03-01", "end": "2026-03-07"}, "lineas": [str(i) for i in lines],
               "productos": products, "turnos": sorted(meta.shifts)[:2], "incluir_rechazos": "false",
               "peso": {"min": "40", "max": "160"}}
    valid = per_call(lambda: fs.fragments(fs.validate(request)), 200, repeat)
    print(f"FilterSet build (7 rows, config validation): {med_us(build):.1f} µs;"
          f" describe(): {med_us(describe):.1f} µs; JSON {len(body) / 1024:.0f} KiB")
    print(f"validate + fragments of a typical request (3 lines, {len(products)} products):"
          f" {med_us(valid):.1f} µs")
    result.update({"load_ms": med_ms(cold_get), "check_ms": med_ms(check)})
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    mysql_url = os.environ.get("CAMET_BENCH_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
    print_machine(machine_info(("SQLAlchemy", "PyMySQL", "pydantic")))
    results = {"sqlite": run_backend("sqlite", args.repeat, mysql_url)}
    try:
        engine = build_engine(parse_db_url(mysql_url).set(database="mysql"))
        with engine.connect() as conn:
            version = conn.execute(text("SELECT VERSION()")).scalar()
        engine.dispose()
        print(f"\nMariaDB/MySQL server {version} at {parse_db_url(mysql_url).host}")
        results["mysql"] = run_backend("mysql", args.repeat, mysql_url)
    except sqlalchemy.exc.OperationalError as exc:
        print(f"\nMariaDB not reachable ({type(exc).__name__}): SQLite only")
    if "mysql" in results:
        s, m = results["sqlite"], results["mysql"]
        print(f"\nratios MariaDB / SQLite: tenant load {m['load_ms'] / s['load_ms']:.2f}x,"
              f" version check {m['check_ms'] / s['check_ms']:.2f}x")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
