"""Ingestion API throughput: batches of 1,000 detections over HTTP into one engine process.

For each backend: a fresh installation with the demo plant and one gateway key, the engine under
uvicorn as its own process on 127.0.0.1 (one process, as the target says), and an httpx client
posting JSON batches from a few threads. Reports rows/s, batch latency, the engine's stage
timings (Server-Timing: parse, write, trace), the engine's peak RSS, checks the row count with
plain SQL and that a resent batch adds 0; then, in the same run, two baselines on the same rows:
the CSV import path (`import_detections`) and row-by-row INSERTs (one statement per detection).

    .venv/bin/python bench/bench_ingest.py [--rows 200000] [--batch 1000] [--clients 8]
                                           [--backends sqlite,mysql]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402

from bench._common import central_db_url, drop_databases, machine_info, print_machine  # noqa: E402
from core import migrations  # noqa: E402
from core.runtime import build_runtime  # noqa: E402
from core.schema_tenant import detections_table  # noqa: E402
from core.settings import PROJECT_ROOT, load_settings  # noqa: E402
from core.tenants import create_tenant  # noqa: E402
from identity.ingest_keys import create_key  # noqa: E402
from ingest.csv_import import import_detections  # noqa: E402
from ingest.plant_metadata import load_plant_file, parse_plant  # noqa: E402
from ingest.simulator import QUIET, PlantSimulator  # noqa: E402
from tests.servers import free_port, wait_until_up  # noqa: E402

DEMO_PLANT = PROJECT_ROOT / "config" / "demo_plant.yml"
START = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)


class FixedClock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now_utc(self) -> datetime:
        return self.moment


def make_rows(n: int) -> list[dict[str, object]]:
    """n realistic detections of the four demo lines (the simulator, no incidents), in time order."""
    clock = FixedClock(START)
    sim = PlantSimulator.from_plant(parse_plant(DEMO_PLANT.read_text(encoding="utf-8")), clock,
                                    seed=1, incidents=QUIET)
    sim.start_at(START)
    rows: list[dict[str, object]] = []
    while len(rows) < n:
        clock.moment += timedelta(minutes=10)
        rows += sim.collect()
    return rows[:n]


def installation(backend: str, mysql_url: str, var: Path):  # noqa: ANN201
    """(settings, runtime, cleanup) of a fresh installation with tenant 'bench' and the demo plant."""
    prefix = f"bench_ingest_{uuid.uuid4().hex[:8]}"
    central = central_db_url(backend, mysql_url, prefix)
    settings = load_settings(var_dir=var / prefix, central_db_url=central, secret_key="b" * 40,
                             jwt_secret="c" * 40, ingest_rate_per_key="1000000 per minute")
    rt = build_runtime(settings, clock=FixedClock(START + timedelta(days=1)))
    migrations.upgrade_central(rt.db.central_engine)
    create_tenant(rt.db, "bench", name="Bench")
    load_plant_file(rt.db, "bench", DEMO_PLANT, today=START.date())

    def cleanup() -> None:
        if backend == "mysql":
            drop_databases(mysql_url, prefix)
        rt.db.dispose()

    return settings, rt, cleanup


def start_engine(settings, port: int) -> subprocess.Popen:  # noqa: ANN001
    env = dict(os.environ, CAMET_VAR_DIR=str(settings.var_dir), CAMET_CENTRAL_DB_URL=settings.central_db_url,
               CAMET_SECRET_KEY=settings.secret_key, CAMET_JWT_SECRET=settings.jwt_secret,
               CAMET_INGEST_RATE_PER_KEY=settings.ingest_rate_per_key, CAMET_LOG_LEVEL="WARNING")
    proc = subprocess.Popen(  # noqa: S603 - fixed argv
        [sys.executable, "-m", "uvicorn", "--factory", "app_fastapi.main:create_app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning", "--no-access-log"], cwd=PROJECT_ROOT, env=env)
    wait_until_up(f"http://127.0.0.1:{port}/api/v1/health")
    return proc


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def post_all(url: str, key: str, batches: list[list[dict]], clients: int) -> tuple[float, list[float], dict]:
    """Post every batch from `clients` threads; (seconds, latencies, summed stage ms)."""
    latencies: list[float] = []
    stages: dict[str, float] = {}
    lock = threading.Lock()
    queue = list(reversed(batches))
    failures: list[str] = []

    def worker() -> None:
        with httpx.Client(timeout=60, headers={"Authorization": f"Bearer {key}"}) as http:
            while True:
                with lock:
                    if not queue:
                        return
                    batch = queue.pop()
                t0 = time.perf_counter()
                r = http.post(url, json={"detections": batch})
                dt = time.perf_counter() - t0
                with lock:
                    latencies.append(dt)
                    if r.status_code != 200:
                        failures.append(f"{r.status_code} {r.text[:200]}")
                    for part in r.headers.get("server-timing", "").split(","):
                        name, _, dur = part.strip().partition(";dur=")
                        if dur:
                            stages[name] = stages.get(name, 0.0) + float(dur)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - t0
    if failures:
        raise SystemExit(f"{len(failures)} batches failed, first: {failures[0]}")
    return seconds, latencies, stages


def count_all(rt) -> int:  # noqa: ANN001
    meta = rt.meta.get("bench")
    with rt.db.tenant("bench") as conn:
        return sum(conn.execute(text(f"SELECT COUNT(*) FROM detections_{line.id}")).scalar()
                   for line in meta.lines.values())


def baseline_csv(rt, rows: list[dict], var: Path) -> float:  # noqa: ANN001
    """rows/s of `import_detections` (the CSV path) for the L1 rows, into an emptied table."""
    l1 = [r for r in rows if r["line"] == "L1"]
    path = var / "l1.csv"
    path.write_text("ts,product_code,weight_g,status\n" + "".join(
        f"{r['ts']},{r['product_code']},{r['weight_g']},{r['status']}\n" for r in l1))
    meta = rt.meta.get("bench")
    with rt.db.tenant("bench") as conn:
        conn.execute(text(f"DELETE FROM detections_{meta.line_by_code('L1').id}"))
    t0 = time.perf_counter()
    result = import_detections(rt.db, meta, "L1", path, clock=rt.clock)
    assert result.rows_inserted == len(l1), result
    return len(l1) / (time.perf_counter() - t0)


def baseline_row_by_row(rt, sample: list[dict]) -> float:  # noqa: ANN001
    """rows/s of one INSERT statement per detection (one transaction), into L2's emptied table."""
    meta = rt.meta.get("bench")
    products = meta.product_ids_by_code()
    table = detections_table(meta.line_by_code("L2").id)
    with rt.db.tenant("bench") as conn:
        conn.execute(table.delete())
    tz = meta.timezone
    from core.timeutil import zone

    values = [{"ts": datetime.fromisoformat(str(r["ts"]).replace("Z", "+00:00")).astimezone(zone(tz))
               .replace(tzinfo=None), "seq": 0, "product_id": products[r["product_code"]],
               "weight_g": r["weight_g"], "status": 1 if r["status"] == "reject" else 0} for r in sample]
    t0 = time.perf_counter()
    with rt.db.tenant("bench") as conn:
        for v in values:
            conn.execute(insert(table).values(**v))
    return len(values) / (time.perf_counter() - t0)


def run_backend(backend: str, args: argparse.Namespace, rows: list[dict], var: Path) -> None:
    settings, rt, cleanup = installation(backend, args.mysql_url, var)
    proc = None
    try:
        meta = rt.meta.get("bench")
        _rec, key = create_key(rt.db, settings, tenant="bench", name="bench", lines=list(meta.lines_by_code),
                               known_lines=set(meta.lines_by_code))
        port = free_port()
        proc = start_engine(settings, port)
        url = f"http://127.0.0.1:{port}/api/v1/ingest/detections"
        batches = [rows[i:i + args.batch] for i in range(0, len(rows), args.batch)]
        post_all(url, key, batches[:2], 1)  # warm-up (first request builds the runtime), counted below
        cpu0 = cpu_seconds(proc.pid)
        seconds, lat, stages = post_all(url, key, batches[2:], args.clients)
        cpu = cpu_seconds(proc.pid) - cpu0
        sent = sum(len(b) for b in batches[2:])
        resend = httpx.post(url, json={"detections": batches[5]}, headers={"Authorization": f"Bearer {key}"})
        stored = count_all(rt)
        rss = peak_rss_mb(proc.pid)
        lat.sort()
        p50, p95 = statistics.median(lat) * 1000, lat[int(len(lat) * .95)] * 1000
        print(f"\n[{backend}] {len(batches) - 2} batches × {args.batch} rows, {args.clients} client threads, "
              f"1 engine process")
        print(f"  ingest API   {sent / seconds:>10,.0f} rows/s   ({sent:,} rows in {seconds:.1f}s; "
              f"batch p50 {p50:.0f} ms, p95 {p95:.0f} ms)")
        n = len(batches) - 2
        print(f"  engine CPU {cpu * 1000 / n:.1f} ms per batch → {sent / cpu:,.0f} rows per engine "
              f"CPU-second (machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        walls = ", ".join(f"{k} {v / n:.1f} ms" for k, v in stages.items())
        print(f"  engine stages per batch (wall): {walls}")
        print(f"  engine peak RSS {rss:,.0f} MB; stored rows {stored:,} (sent {len(rows):,}); "
              f"resent batch added {resend.json()['rows_inserted']}")
        assert stored == len(rows) and resend.json()["rows_inserted"] == 0
        csv_rate = baseline_csv(rt, rows, var)
        row_rate = baseline_row_by_row(rt, [r for r in rows if r["line"] == "L2"][:args.sample])
        print(f"  baseline CSV import path {csv_rate:>10,.0f} rows/s (L1 rows, in-process, no HTTP)")
        print(f"  baseline row-by-row INSERT {row_rate:>8,.0f} rows/s ({args.sample:,} rows)   "
              f"→ API is {sent / seconds / row_rate:.1f}× row-by-row")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)
        cleanup()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--sample", type=int, default=5000, help="rows of the row-by-row baseline")
    parser.add_argument("--backends", default="sqlite,mysql")
    parser.add_argument("--mysql-url", default=os.environ.get("CAMET_TEST_MYSQL_URL")
                        or "mysql+pymysql://root@127.0.0.1:3306/test")
    args = parser.parse_args()
    print_machine(machine_info(("fastapi", "uvicorn", "httpx", "pandas", "SQLAlchemy", "PyMySQL")))
    t0 = time.perf_counter()
    rows = make_rows(args.rows)
    print(f"generated {len(rows):,} detections of 4 lines in {time.perf_counter() - t0:.1f}s")
    with tempfile.TemporaryDirectory(prefix="bench_ingest_") as tmp:
        for backend in args.backends.split(","):
            run_backend(backend.strip(), args, rows, Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
