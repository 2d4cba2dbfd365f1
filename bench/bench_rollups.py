"""Benchmark: rollup maintenance throughput (detections/s) while the plant ingests.

A plant of the demo's four lines produces `--rate` detections/s in total (default 20,000/s,
the issue's target) for `--minutes` of simulated plant time on the injected clock. Every
`--step-s` simulated seconds (default 300 s, the job's interval) the step's detections are
bulk-inserted (as the ingestion path does) and then the rollup job runs, rolling up the buckets
that ended. Keeping up means the job's wall time per step stays below the step's length, i.e.
its throughput is at least the ingestion rate. With `--concurrent` the next step's rows are
inserted by a second thread while the job runs (the writers and the job then contend for the
database, as in production).

In the same run, as baselines over the same rows: a full rebuild (rollups emptied, one job run
from the first detection) and a plain `SELECT COUNT(*) … GROUP BY bucket` scan (the cost of
reading the rows once in the database). RSS is the process's before each job run (it holds the
next step's generated rows) and its peak during the run (high-water mark reset before it). One
backend per fresh process; MariaDB databases created here are dropped at the end.

    .venv/bin/python bench/bench_rollups.py --backends sqlite,mysql --rate 20000 --minutes 10
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sqlalchemy import delete, func, select  # noqa: E402

from bench._common import ROOT, drop_databases, machine_info, mb, print_machine, run_child  # noqa: E402
from core import migrations  # noqa: E402
from core import schema_tenant as t  # noqa: E402
from core.clock import ManualClock, parse_instant  # noqa: E402
from core.db import parse_db_url  # noqa: E402
from core.detection_tables import ensure_line_table  # noqa: E402
from core.memory import peak_rss_bytes, reset_peak_rss, rss_bytes  # noqa: E402
from core.metadata_cache import TenantMeta  # noqa: E402
from core.rollup_sql import bucket_start_sql  # noqa: E402
from core.runtime import Runtime, build_runtime  # noqa: E402
from core.settings import PROJECT_ROOT, load_settings  # noqa: E402
from core.tenants import create_tenant, ensure_database  # noqa: E402
from ingest.bulk_load import insert_detections  # noqa: E402
from ingest.plant_metadata import load_plant_file  # noqa: E402
from rollups.job import roll_tenant  # noqa: E402

SCRIPT = Path(__file__).resolve()
SLUG = "bench"
START = datetime(2026, 11, 18, 6, 0)  # plant local time, a shift start
TZ = "America/Argentina/Buenos_Aires"
INSERT_CHUNK = 500_000


def _runtime(central: str, var_dir: str, clock: ManualClock | None = None) -> Runtime:
    settings = load_settings(env="test", var_dir=Path(var_dir), central_db_url=central)
    return build_runtime(settings, clock=clock)


def _at(local: datetime) -> datetime:
    return parse_instant(local.isoformat(), TZ)


def step_rows(meta: TenantMeta, start: datetime, seconds: float, rate: float,
              rng: np.random.Generator) -> dict[int, pd.DataFrame]:
    """One step of plant output: per line, evenly spaced (ts, seq) keys, random products of the
    line, weights around nominal in 0.1 g (2 % unweighed), 3 % rejects."""
    lines = sorted(meta.lines)
    per_line = int(rate * seconds / len(lines))
    out = {}
    for line_id in lines:
        products = sorted(p.id for p in meta.products.values() if line_id in p.line_ids)
        nominal = np.array([meta.products[p].nominal_weight_g for p in products])
        # millisecond timestamps (MySQL keeps DATETIME(3)); rows sharing one get seq 0, 1, …
        offsets = (np.arange(per_line) * (seconds * 1e3 / per_line)).astype("int64")
        seq = np.arange(per_line) - np.searchsorted(offsets, offsets, side="left")
        pick = rng.integers(0, len(products), per_line)
        weight = np.round(nominal[pick] * rng.normal(1.01, 0.02, per_line), 1)
        weight[rng.random(per_line) < 0.02] = np.nan
        out[line_id] = pd.DataFrame({
            "ts": pd.Timestamp(start) + pd.to_timedelta(offsets, unit="ms"),
            "seq": seq, "product_id": np.asarray(products)[pick], "weight_g": weight,
            "status": (rng.random(per_line) < 0.03).astype("int64"),
        })
    return out


def ingest(rt: Runtime, frames: dict[int, pd.DataFrame]) -> float:
    """Bulk-insert one step (LOAD DATA on MariaDB, executemany on SQLite); seconds taken."""
    t0 = time.perf_counter()
    for line_id, frame in frames.items():
        for i in range(0, len(frame), INSERT_CHUNK):
            with rt.db.tenant(SLUG) as conn:
                insert_detections(conn, line_id, frame.iloc[i:i + INSERT_CHUNK])
    return time.perf_counter() - t0


def timed_job(rt: Runtime) -> dict:
    """One job run with its wall time, rollup rows written and peak RSS."""
    reset_peak_rss()
    before = rss_bytes()
    t0 = time.perf_counter()
    runs = roll_tenant(rt, SLUG)
    return {"s": time.perf_counter() - t0, "rows": sum(r.rows for r in runs),
            "chunks": sum(r.chunks for r in runs), "rss_before": before, "peak": peak_rss_bytes()}


def group_scan(rt: Runtime) -> tuple[float, int]:
    """Baseline: count every detection per bucket in the database (read the rows once)."""
    meta = rt.meta.get(SLUG)
    t0 = time.perf_counter()
    total = 0
    with rt.db.tenant(SLUG) as conn:
        for line_id in sorted(meta.lines):
            d = t.detections_table(line_id)
            bucket = bucket_start_sql(d.c.ts, conn.dialect.name).label("b")
            inner = select(bucket, func.count().label("n")).group_by(bucket).subquery()
            total += conn.execute(select(func.sum(inner.c.n))).scalar() or 0
    return time.perf_counter() - t0, int(total)


def child(payload: dict) -> dict:
    """In a fresh process: the plant runs step by step, then the baselines."""
    clock = ManualClock(_at(START))
    rt = _runtime(payload["central"], payload["var_dir"], clock)
    meta = rt.meta.get(SLUG)
    rng = np.random.default_rng(42)
    step = timedelta(seconds=payload["step_s"])
    steps = int(payload["minutes"] * 60 // payload["step_s"])
    out: dict = {"steps": []}
    pending = step_rows(meta, START, payload["step_s"], payload["rate"], rng)
    ingest_s = ingest(rt, pending)
    for k in range(steps):
        clock.set(_at(START + step * (k + 1)))
        rows = sum(len(f) for f in pending.values())
        nxt: dict[int, pd.DataFrame] = {}
        worker = None
        if k + 1 < steps:
            nxt = step_rows(meta, START + step * (k + 1), payload["step_s"], payload["rate"], rng)
        if payload["concurrent"] and nxt:
            box: dict[str, float] = {}
            worker = threading.Thread(target=lambda f=nxt, b=box: b.update(s=ingest(rt, f)))
            worker.start()
        job = timed_job(rt)
        if worker is not None:
            worker.join()
            next_ingest = box["s"]
        else:
            next_ingest = ingest(rt, nxt) if nxt else 0.0
        out["steps"].append({"detections": rows, "ingest_s": ingest_s, **job})
        pending, ingest_s = nxt, next_ingest
    with rt.db.tenant(SLUG) as conn:
        total = conn.execute(select(func.sum(t.rollups.c.units))).scalar() or 0
        conn.execute(delete(t.rollups))
        conn.execute(delete(t.rollups_state))
    out["rolled_units"] = int(total)
    out["full"] = timed_job(rt)
    out["scan_s"], out["scan_rows"] = group_scan(rt)
    return out


def prepare(backend: str, mysql_url: str, var_dir: Path, prefix: str, minutes: float) -> dict:
    central = ""
    if backend == "mysql":
        central = parse_db_url(mysql_url).set(database=prefix).render_as_string(hide_password=False)
        ensure_database(central)
    rt = _runtime(central, str(var_dir))
    migrations.upgrade_central(rt.db.central_engine)
    create_tenant(rt.db, SLUG, name="Bench", timezone=TZ)
    load_plant_file(rt.db, SLUG, PROJECT_ROOT / "config" / "demo_plant.yml", today=START.date())
    end = START + timedelta(minutes=minutes)
    with rt.db.tenant(SLUG) as conn:
        for line_id in rt.meta.get(SLUG).lines:
            ensure_line_table(conn, line_id, [START.date(), end.date()], today=START.date())
    rt.db.dispose()
    return {"central": central, "var_dir": str(var_dir)}


def report(backend: str, r: dict, payload: dict) -> list[str]:
    mode = "ingest concurrent with the job" if payload["concurrent"] else "ingest, then job"
    lines = [f"\n== {backend}: {payload['rate']:,} detections/s for {payload['minutes']} min "
             f"(steps of {payload['step_s']} s, {mode})"]
    job_s = sum(s["s"] for s in r["steps"])
    rows = sum(s["detections"] for s in r["steps"])
    for i, s in enumerate(r["steps"], 1):
        lines.append(f"step {i}: ingest {s['detections']:,} rows in {s['ingest_s']:.1f}s "
                     f"({s['detections'] / s['ingest_s']:,.0f}/s); job {s['s']:.2f}s = "
                     f"{s['detections'] / s['s']:,.0f} detections/s, {s['rows']:,} rollup rows, "
                     f"RSS {mb(s['rss_before'])} -> peak {mb(s['peak'])}")
    worst = max(s["s"] for s in r["steps"])
    keeps = worst < payload["step_s"]
    lines.append(f"incremental: {rows:,} detections in {job_s:.2f}s of job time = "
                 f"{rows / job_s:,.0f} detections/s; worst step {worst:.2f}s of {payload['step_s']} s -> "
                 f"{'keeps up' if keeps else 'FALLS BEHIND'} at {payload['rate']:,}/s "
                 f"(headroom {payload['step_s'] / worst:.1f}x); rolled units {r['rolled_units']:,}")
    f = r["full"]
    lines.append(f"baseline full rebuild: {f['s']:.2f}s = {r['scan_rows'] / f['s']:,.0f} detections/s "
                 f"({f['chunks']} chunks, {f['rows']:,} rows, RSS {mb(f['rss_before'])} -> peak "
                 f"{mb(f['peak'])}); plain GROUP BY "
                 f"bucket count scan {r['scan_s']:.2f}s = {r['scan_rows'] / r['scan_s']:,.0f} rows/s")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,mysql")
    parser.add_argument("--rate", type=int, default=20_000, help="detections/s of the whole plant")
    parser.add_argument("--minutes", type=float, default=10, help="simulated plant minutes")
    parser.add_argument("--step-s", type=int, default=300, help="simulated seconds between job runs")
    parser.add_argument("--concurrent", action="store_true", help="ingest the next step during the job")
    parser.add_argument("--mysql-url", default=os.environ.get("CAMET_BENCH_MYSQL_URL",
                                                              "mysql+pymysql://root@127.0.0.1:3306/test"))
    parser.add_argument("--out", default=None, help="also write the report here (default bench/results/)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return
    info = machine_info(("SQLAlchemy", "PyMySQL", "pandas", "numpy"))
    print_machine(info)
    lines = [f"machine: {info['cpu']}, {info['cores']} cores, {info['ram_gb']} GB RAM, {info['os']}"]
    for backend in args.backends.split(","):
        prefix = f"br_{uuid.uuid4().hex[:8]}"
        with tempfile.TemporaryDirectory() as tmp:
            try:
                env = prepare(backend, args.mysql_url, Path(tmp) / backend, prefix, args.minutes)
                payload = {**env, "rate": args.rate, "minutes": args.minutes, "step_s": args.step_s,
                           "concurrent": args.concurrent}
                result = run_child(SCRIPT, payload, timeout_s=7200)
            finally:
                if backend == "mysql":
                    drop_databases(args.mysql_url, prefix)
        failed = "error" in result
        part = [f"\n== {backend}: failed: {result['error']}"] if failed else report(backend, result, payload)
        print("\n".join(part), flush=True)
        lines += part
    out = Path(args.out) if args.out else ROOT / "bench" / "results" / (
        f"rollups-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.txt")
    command = "command: .venv/bin/python bench/bench_rollups.py " + " ".join(sys.argv[1:])
    out.write_text("\n".join([command, *lines]) + "\n", encoding="utf-8")
    print(f"\nreport written to {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")


if __name__ == "__main__":
    main()
