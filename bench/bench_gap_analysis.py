"""Benchmark: gap analysis throughput (detections/s) and the job's peak memory.

For each size N, line L1 of the demo plant gets N realistic detections from the demo generator
(stoppages, micro-stops, breaks, Sundays off). Measured in the same run:
- the pure function `stops.analysis.analyse_line` over all N rows, against a naive baseline
  (a Python loop per row, timed on a 200k-row prefix and extrapolated);
- the whole job (`stops.job.analyse_tenant`: read ts per 7-day chunk, analyse, delete+insert
  `stops`) on each backend in a fresh process (peak RSS is its own), against a plain SQL pass with
  `LAG()` that only counts the gaps above the threshold on the server.
MariaDB databases created here are dropped at the end.

    .venv/bin/python bench/bench_gap_analysis.py --rows 1000000 5000000 --backends sqlite,mysql
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bench._common import drop_databases, machine_info, mb, print_machine, run_child, timed  # noqa: E402
from core import migrations  # noqa: E402
from core.db import is_mysql, parse_db_url  # noqa: E402
from core.detection_tables import ensure_line_table  # noqa: E402
from core.memory import peak_rss_bytes, reset_peak_rss, rss_bytes  # noqa: E402
from core.partitions import months_between  # noqa: E402
from core.runtime import build_runtime  # noqa: E402
from core.settings import PROJECT_ROOT, load_settings  # noqa: E402
from core.shift_calendar import shift_instances  # noqa: E402
from core.tenants import create_tenant, ensure_database  # noqa: E402
from ingest.bulk_load import insert_detections  # noqa: E402
from ingest.demo_data import DemoPlan, generate_line  # noqa: E402
from ingest.plant_metadata import load_plant_file  # noqa: E402

SCRIPT = Path(__file__).resolve()
SLUG = "bench"
END = datetime(2026, 11, 18, 15, 30)
TZ = "America/Argentina/Buenos_Aires"
NAIVE_ROWS = 200_000


def settings_for(central: str, var_dir: str, clock_start: str = ""):
    return load_settings(env="test", var_dir=Path(var_dir), central_db_url=central, clock_start=clock_start)


def detections(meta, n: int) -> pd.DataFrame:
    """The latest n demo detections of line L1, ending at END."""
    line = meta.line_by_code("L1")
    per_day = line.ideal_rate_per_min * 0.9 * 60 * 24 * 0.75
    days = int(n / per_day * 1.2) + 2
    frame = generate_line(meta, line, DemoPlan(start=END - timedelta(days=days), end=END))
    return frame.iloc[-n:].reset_index(drop=True)


def naive_loop(ts: np.ndarray, instances, micro_s: float, stop_s: float) -> int:
    """The baseline: one Python iteration per detection, planned overlap per stop and instance."""
    stops = 0
    values = pd.to_datetime(ts).to_pydatetime()
    for prev, cur in zip(values[:-1], values[1:], strict=True):
        gap = (cur - prev).total_seconds()
        if gap > stop_s:
            for inst in instances:
                if inst.start < cur and prev < inst.end:
                    stops += any(min(e, cur) > max(s, prev) for s, e in inst.planned)
        elif gap > micro_s:
            stops += 0
    return stops


def pure(meta, frame: pd.DataFrame) -> dict:
    from stops.analysis import analyse_line

    line = meta.line_by_code("L1")
    ts = frame["ts"].to_numpy()
    first, last = pd.Timestamp(ts[0]).date() - timedelta(days=1), END.date()
    instances = shift_instances(meta, line.id, first, last)
    args = {"micro_stop_s": line.micro_stop_s, "stop_threshold_s": line.stop_threshold_s, "now": END}
    median, _ = timed(lambda: analyse_line(ts, instances, **args), repeat=3)
    out = analyse_line(ts, instances, **args)
    sub = ts[:NAIVE_ROWS]
    lo, hi = pd.Timestamp(sub[0]), pd.Timestamp(sub[-1])
    sub_instances = [i for i in instances if i.start <= hi and i.end >= lo]
    t0 = time.perf_counter()
    naive_loop(sub, sub_instances, line.micro_stop_s, line.stop_threshold_s)
    naive_s = time.perf_counter() - t0
    return {"seconds": median, "rows_s": len(ts) / median, "stop_rows": int((out["kind"] == "stop").sum()),
            "micro_rows": int((out["kind"] == "micro").sum()), "naive_rows_s": len(sub) / naive_s}


def prepare(backend: str, frame: pd.DataFrame, mysql_url: str, var_dir: Path, prefix: str) -> dict:
    central = ""
    if backend == "mysql":
        central = parse_db_url(mysql_url).set(database=prefix).render_as_string(hide_password=False)
        ensure_database(central)
    rt = build_runtime(settings_for(central, str(var_dir)))
    migrations.upgrade_central(rt.db.central_engine)
    create_tenant(rt.db, SLUG, name="Bench", timezone=TZ)
    load_plant_file(rt.db, SLUG, PROJECT_ROOT / "config" / "demo_plant.yml", today=END.date())
    line_id = rt.meta.get(SLUG).line_by_code("L1").id
    months = months_between(frame["ts"].iloc[0].date(), END.date())
    t0 = time.perf_counter()
    with rt.db.tenant(SLUG) as conn:
        ensure_line_table(conn, line_id, months, today=END.date())
    for i in range(0, len(frame), 500_000):
        with rt.db.tenant(SLUG) as conn:
            insert_detections(conn, line_id, frame.iloc[i:i + 500_000])
    load_s = time.perf_counter() - t0
    rt.db.dispose()
    return {"backend": backend, "central": central, "var_dir": str(var_dir), "line_id": line_id,
            "load_s": load_s}


def child(payload: dict) -> dict:
    """In a fresh process: the SQL LAG() baseline, then the whole job, with peak RSS."""
    rt = build_runtime(settings_for(payload["central"], payload["var_dir"], f"{END.isoformat()}-03:00"))
    from stops.job import analyse_tenant

    line = rt.meta.get(SLUG).line_by_code("L1")
    table = f"detections_{line.id}"
    with rt.db.tenant(SLUG) as conn:
        if is_mysql(conn.engine.url):
            gap = "TIMESTAMPDIFF(MICROSECOND, LAG(ts) OVER (ORDER BY ts), ts) / 1e6"
        else:
            gap = "(julianday(ts) - julianday(LAG(ts) OVER (ORDER BY ts))) * 86400.0"
        sql = text(f"SELECT COUNT(*) FROM (SELECT {gap} AS g FROM {table}) x WHERE g > :s")
        t0 = time.perf_counter()
        lag_stops = conn.execute(sql, {"s": line.stop_threshold_s}).scalar()
        lag_s = time.perf_counter() - t0
        rows = conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar()
    reset_peak_rss()
    before = rss_bytes()
    t0 = time.perf_counter()
    runs = analyse_tenant(rt, SLUG)
    job_s = time.perf_counter() - t0
    return {"rows": rows, "job_s": job_s, "job_rows_s": rows / job_s, "stop_rows": sum(r.rows for r in runs),
            "chunks": sum(r.chunks for r in runs), "rss_before": before, "rss_peak": peak_rss_bytes(),
            "lag_s": lag_s, "lag_rows_s": rows / lag_s, "lag_stops": lag_stops}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--backends", default="sqlite,mysql")
    parser.add_argument("--mysql-url", default=os.environ.get("CAMET_BENCH_MYSQL_URL",
                                                              "mysql+pymysql://root@127.0.0.1:3306/test"))
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return
    print_machine(machine_info(("numpy", "pandas", "SQLAlchemy", "PyMySQL")))
    for n in args.rows:
        with tempfile.TemporaryDirectory() as tmp:
            meta_rt = build_runtime(settings_for("", str(Path(tmp) / "meta")))
            migrations.upgrade_central(meta_rt.db.central_engine)
            create_tenant(meta_rt.db, SLUG, name="Bench", timezone=TZ)
            load_plant_file(meta_rt.db, SLUG, PROJECT_ROOT / "config" / "demo_plant.yml", today=END.date())
            meta = meta_rt.meta.get(SLUG)
            t0 = time.perf_counter()
            frame = detections(meta, n)
            span = f"from {frame['ts'].iloc[0]:%Y-%m-%d %H:%M} to {frame['ts'].iloc[-1]:%Y-%m-%d %H:%M}"
            print(f"\n== {len(frame):,} detections of L1 {span} "
                  f"(generated in {time.perf_counter() - t0:.1f}s)")
            p = pure(meta, frame)
            print(f"pure analyse_line: {p['seconds']:.2f}s = {p['rows_s']:,.0f} detections/s "
                  f"({p['stop_rows']:,} stop rows, {p['micro_rows']:,} micro-stops); naive per-row loop "
                  f"{p['naive_rows_s']:,.0f} detections/s -> {p['rows_s'] / p['naive_rows_s']:.0f}x faster")
            for backend in args.backends.split(","):
                prefix = f"bg_{uuid.uuid4().hex[:8]}"
                try:
                    env = prepare(backend, frame, args.mysql_url, Path(tmp) / backend, prefix)
                    r = run_child(SCRIPT, env)
                finally:
                    if backend == "mysql":
                        drop_databases(args.mysql_url, prefix)
                if "error" in r:
                    print(f"{backend}: failed: {r['error']}")
                    continue
                print(f"{backend}: loaded in {env['load_s']:.1f}s; job {r['job_s']:.2f}s = "
                      f"{r['job_rows_s']:,.0f} detections/s, {r['chunks']} chunks, {r['stop_rows']:,} rows "
                      f"written, RSS {mb(r['rss_before'])} -> peak {mb(r['rss_peak'])}; "
                      f"SQL LAG() count only: {r['lag_s']:.2f}s = {r['lag_rows_s']:,.0f} rows/s "
                      f"({r['lag_stops']:,} gaps > threshold)")


if __name__ == "__main__":
    main()
