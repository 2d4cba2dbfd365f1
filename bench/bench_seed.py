"""Bulk loading of detections: the seed/import path against naive baselines, same run.

Generates N demo detections (default 1,000,000) once, then loads them into fresh databases:
  * ours, as `seed-demo` and `import-detections` do: LOAD DATA LOCAL INFILE on MariaDB,
    executemany in one transaction on SQLite;
  * the MariaDB fallback for hosts without LOCAL INFILE: multi-row INSERT IGNORE batches;
  * a naive baseline: pandas `to_sql` (SQLAlchemy executemany, default chunking) on a sample,
    extrapolated.
Prints machine, sizes, seconds, rows/s, peak RSS and the ratios.

    .venv/bin/python bench/bench_seed.py [--rows N] [--backends mysql,sqlite] [--sample N]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd  # noqa: E402

from bench._common import central_db_url, drop_databases, machine_info, print_machine  # noqa: E402
from core import migrations  # noqa: E402
from core.detection_tables import ensure_line_table  # noqa: E402
from core.partitions import months_between  # noqa: E402
from core.runtime import build_runtime  # noqa: E402
from core.schema_tenant import detections_table_name  # noqa: E402
from core.settings import PROJECT_ROOT, load_settings  # noqa: E402
from core.tenants import create_tenant  # noqa: E402
from ingest.bulk_load import insert_detections  # noqa: E402
from ingest.demo_data import DemoPlan, estimate_rows_per_day, generate  # noqa: E402
from ingest.plant_metadata import load_plant_file  # noqa: E402


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fresh_tenant(backend: str, mysql_url: str, var_dir: Path):  # noqa: ANN201
    """A new installation with the demo plant; returns (runtime, slug, cleanup)."""
    prefix = f"bench_seed_{uuid.uuid4().hex[:8]}"
    central = central_db_url(backend, mysql_url, prefix)
    settings = load_settings(var_dir=var_dir / prefix, central_db_url=central,
                             secret_key="b" * 40, jwt_secret="c" * 40)
    rt = build_runtime(settings)
    migrations.upgrade_central(rt.db.central_engine)
    create_tenant(rt.db, "bench", name="Bench")
    load_plant_file(rt.db, "bench", PROJECT_ROOT / "config" / "demo_plant.yml",
                    today=rt.clock.now_utc().date())

    def cleanup() -> None:
        rt.db.dispose()
        if backend == "mysql":
            drop_databases(mysql_url, prefix)

    return rt, "bench", cleanup


def load(rt, slug: str, frames: dict[int, pd.DataFrame], months, *, allow_infile: bool = True) -> float:  # noqa: ANN001
    """Load every frame the way seed-demo does (200k-row transactions); returns seconds."""
    with rt.db.tenant(slug) as conn:
        for line_id in frames:
            ensure_line_table(conn, line_id, months, today=rt.clock.now_utc().date())
    started = time.perf_counter()
    for line_id, frame in frames.items():
        for i in range(0, len(frame), 200_000):
            with rt.db.tenant(slug) as conn:
                insert_detections(conn, line_id, frame.iloc[i:i + 200_000], allow_infile=allow_infile)
    return time.perf_counter() - started


def naive(rt, slug: str, frames: dict[int, pd.DataFrame], sample: int) -> tuple[float, int]:  # noqa: ANN001
    """pandas.to_sql over SQLAlchemy on the first `sample` rows; returns (seconds, rows)."""
    line_id, frame = next(iter(frames.items()))
    part = frame.iloc[:sample].copy()
    part["seq"] = part["seq"].astype("int64") + 1  # new keys: (ts, seq) already loaded
    engine = rt.db.tenant_engine(slug)
    started = time.perf_counter()
    part.to_sql(detections_table_name(line_id), engine, if_exists="append", index=False)
    return time.perf_counter() - started, len(part)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--backends", default="mysql,sqlite")
    parser.add_argument("--sample", type=int, default=100_000, help="rows for the naive baseline")
    parser.add_argument("--mysql-url", default=os.environ.get(
        "CAMET_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test"))
    args = parser.parse_args()
    print_machine(machine_info(("pandas", "sqlalchemy", "pymysql")))

    with tempfile.TemporaryDirectory() as tmp:
        rt0, slug0, cleanup0 = fresh_tenant("sqlite", args.mysql_url, Path(tmp))
        meta = rt0.meta.get(slug0)
        end = datetime(2026, 11, 28, 6, 0)
        days = max(1, int(args.rows / estimate_rows_per_day(meta) * 1.1) + 1)
        t0 = time.perf_counter()
        frames = generate(meta, DemoPlan(start=end - timedelta(days=days), end=end), rows=args.rows)
        gen_s = time.perf_counter() - t0
        total = sum(len(f) for f in frames.values())
        months = months_between((end - timedelta(days=days)).date(), end.date())
        cleanup0()
        print(f"data: {total:,} detections over {len(frames)} lines, {days} days; generated in {gen_s:.2f}s")
        print(f"{'backend':8} {'path':28} {'rows':>10} {'seconds':>8} {'rows/s':>10} {'vs ours':>8}")
        for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
            results: list[tuple[str, int, float]] = []
            paths = [("ours (LOAD DATA)" if backend == "mysql" else "ours (executemany)", True)]
            if backend == "mysql":
                paths.append(("fallback (INSERT batches)", False))
            for label, infile in paths:
                rt, slug, cleanup = fresh_tenant(backend, args.mysql_url, Path(tmp))
                try:
                    results.append((label, total, load(rt, slug, frames, months, allow_infile=infile)))
                finally:
                    cleanup()
            rt, slug, cleanup = fresh_tenant(backend, args.mysql_url, Path(tmp))
            try:
                load(rt, slug, {k: v.iloc[:0] for k, v in frames.items()}, months)
                seconds, rows = naive(rt, slug, frames, args.sample)
                results.append((f"baseline to_sql ({rows:,} rows)", rows, seconds))
            finally:
                cleanup()
            ours_rate = results[0][1] / results[0][2]
            for label, rows, seconds in results:
                rate = rows / seconds
                print(f"{backend:8} {label:28} {rows:>10,} {seconds:>8.2f} {rate:>10,.0f} "
                      f"{ours_rate / rate:>7.1f}×")
            target = " (target < 60 s)" if backend == "mysql" else ""
            print(f"{backend:8} 1M rows with ours: {1_000_000 / ours_rate:.1f}s{target}")
    print(f"peak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
