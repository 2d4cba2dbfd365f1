"""Benchmark: building the master DataFrame (query builder, readers, enrichment, memory policy).

Creates a throw-away installation (central DB + tenant "bench" with the demo plant), loads N
detections spread over 3 lines and 30 days (crossing a month boundary) with ingest.bulk_load, then
extracts all of them with a dashboard's columns. Each measured path runs in a fresh process so
RSS numbers are its own. Reported per path: seconds per stage (query = planning + SQL start,
fetch, dataframe, joins), rows/s, RSS before / peak / after release, and the frame's size.
Alongside, in the same run: the `mariadb` client dumping the same statement (the practical
limit), every installed reader, and a naive baseline (SQL JOINs, SELECT *, pandas.read_sql,
default dtypes). MariaDB databases created here are dropped at the end.

    .venv/bin/python bench/bench_extract.py [--rows 1000000] [--backends mysql,sqlite]
    .venv/bin/python bench/bench_extract.py --rows 5000000 --backends mysql   # ~9 min here
    .venv/bin/python bench/bench_extract.py --rows 3800000 --backends mysql --defects-only

`--defects` (or `--defects-only`) adds, on MariaDB, the two counting traps measured in
alternating rounds: ConnectorX reading every line with and without `LIMIT max_rows+1` (its
pre-count wraps the statement in COUNT(*)), and the 413 guard's exact count as one UNION ALL
wrapped in COUNT(*) against one COUNT(*) per table (what master_frame runs now).

MariaDB comes from --mysql-url (or CAMET_BENCH_MYSQL_URL; default root@127.0.0.1:3306).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from bench._common import (  # noqa: E402
    MB,
    READER_PACKAGES,
    add_child_arguments,
    answered_as_child,
    backend_names,
    machine_info,
    mb,
    print_machine,
    run_child,
    scratch_run,
)
from core import migrations, partitions  # noqa: E402
from core.db import parse_db_url  # noqa: E402
from core.detection_tables import ensure_line_table  # noqa: E402
from core.memory import peak_rss_bytes, release_memory, reset_peak_rss, rss_bytes  # noqa: E402
from core.runtime import build_runtime  # noqa: E402
from core.settings import PROJECT_ROOT, load_settings  # noqa: E402
from core.tenants import create_tenant, ensure_database  # noqa: E402
from ingest.bulk_load import insert_detections  # noqa: E402
from ingest.plant_metadata import load_plant_file  # noqa: E402
from query.builder import build_query, render_literal_mysql, route_partitions  # noqa: E402
from query.columns import source_columns_for  # noqa: E402
from query.master_frame import build_master_frame  # noqa: E402
from query.readers import available_readers  # noqa: E402
from query.spec import SqlFragment  # noqa: E402

SCRIPT = Path(__file__).resolve()
SLUG = "bench"
START = datetime(2026, 10, 15)
LINES = ("L1", "L2", "L3")
COLUMNS = ["ts", "line_name", "area_name", "product_name", "nominal_weight_g", "weight_g",
           "status", "is_reject", "shift_name", "shift_date"]
TWO_COLUMNS = ["ts", "line_name"]
TARGET_CLI, TARGET_PEAK, TARGET_AFTER = 2.0, 2.5, 0.15


def settings_for(central_url: str, var_dir: str):
    return load_settings(env="test", var_dir=Path(var_dir), central_db_url=central_url,
                         max_rows=100_000_000, query_timeout_s=3600)


# ---------------------------------------------------------------- setup (parent process)

def make_rows(meta, line_id: int, n: int, days: int, rng: np.random.Generator) -> pd.DataFrame:
    """n detections of one line, evenly spread with jitter, products in runs, 2% rejects."""
    span_ms = days * 86_400_000
    step = span_ms // n
    offsets = np.arange(n, dtype=np.int64) * step + rng.integers(0, max(step // 2, 1), n)
    ts = np.datetime64(START, "ms") + offsets.astype("timedelta64[ms]")
    products = sorted(p.id for p in meta.products.values() if line_id in p.line_ids)
    pid = np.asarray(products, dtype=np.int64)[(np.arange(n) // 500) % len(products)]
    nominal = np.asarray([meta.products[int(p)].nominal_weight_g for p in products])[
        (np.arange(n) // 500) % len(products)]
    weight = np.round(nominal * (1 + rng.normal(0, 0.01, n)), 2)
    weight[rng.random(n) < 0.005] = np.nan
    status = (rng.random(n) < 0.02).astype(np.int64)
    return pd.DataFrame({"ts": ts, "seq": 0, "product_id": pid, "weight_g": weight, "status": status})


def prepare(backend: str, rows: int, days: int, mysql_url: str, var_dir: Path, prefix: str) -> dict:
    """A fresh installation with `rows` detections; returns what the children need."""
    central = ""
    if backend == "mysql":
        central = parse_db_url(mysql_url).set(database=prefix).render_as_string(hide_password=False)
        ensure_database(central)
    settings = settings_for(central, str(var_dir))
    rt = build_runtime(settings)
    migrations.upgrade_central(rt.db.central_engine)
    create_tenant(rt.db, SLUG, name="Bench", timezone="America/Argentina/Buenos_Aires")
    load_plant_file(rt.db, SLUG, PROJECT_ROOT / "config" / "demo_plant.yml", today=rt.clock.now_utc().date())
    meta = rt.meta.get(SLUG)
    ids = [meta.line_by_code(code).id for code in LINES]
    months = partitions.months_between(START.date(), (START + timedelta(days=days)).date())
    with rt.db.tenant(SLUG) as conn:
        for line_id in ids:
            ensure_line_table(conn, line_id, months, today=rt.clock.now_utc().date())
    rng = np.random.default_rng(42)
    t0 = time.perf_counter()
    for i, line_id in enumerate(ids):
        n = rows // len(ids) + (1 if i < rows % len(ids) else 0)
        frame = make_rows(meta, line_id, n, days, rng)
        with rt.db.tenant(SLUG) as conn:
            insert_detections(conn, line_id, frame)
        del frame
    load_s = time.perf_counter() - t0
    if backend == "mysql":
        with rt.db.tenant(SLUG) as conn:
            for line_id in ids:
                conn.execute(text(f"ANALYZE TABLE detections_{line_id}"))
    env = {"backend": backend, "central_url": central, "var_dir": str(var_dir),
           "tenant_url": rt.db.tenant_url(SLUG), "line_ids": ids, "load_s": load_s,
           "start": START.isoformat(), "end": (START + timedelta(days=days)).isoformat()}
    rt.db.dispose()
    return env


def cli_dump(env: dict, columns: list[str], repeat: int) -> dict:
    """Time `mariadb -N -B -q -e <same statement> > /dev/null`."""
    if not shutil.which("mariadb"):
        return {"error": "mariadb client not installed"}
    settings = settings_for(env["central_url"], env["var_dir"])
    rt = build_runtime(settings)
    window = (datetime.fromisoformat(env["start"]), datetime.fromisoformat(env["end"]))
    frags = [SqlFragment(time_range=window)]
    with rt.db.tenant(SLUG) as conn:
        routed = route_partitions(conn, rt.query_state.partitions, env["line_ids"], window)
    query = build_query(env["line_ids"], source_columns_for(set(columns)), frags, partitions=routed)
    sql = render_literal_mysql(query.statement())
    rt.db.dispose()
    url = make_url(env["tenant_url"])
    cmd = ["mariadb", "-h", url.host or "127.0.0.1", "-P", str(url.port or 3306),
           "-u", url.username or "root", "-N", "-B", "-q", "-e", sql, url.database]
    child_env = {**os.environ, "MYSQL_PWD": url.password or ""}
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True, env=child_env)
        samples.append(time.perf_counter() - t0)
    return {"total": statistics.median(samples), "samples": samples, "sql": sql}


# ---------------------------------------------------------------- measured paths (children)

def _measure(run, repeat: int, warm_up) -> dict:
    """Median time of `run()`; RSS before/peak/after release of the first run.

    `warm_up()` runs once first on a one-hour window, so one-time costs (lazy imports, driver
    start-up, statement caches) are not counted as memory the run failed to give back.
    """
    warm_up()
    totals, stages, first = [], [], None
    for _ in range(repeat):
        release_memory()
        before = rss_bytes()
        reset_peak_rss()
        t0 = time.perf_counter()
        result = run()
        total = time.perf_counter() - t0
        peak = peak_rss_bytes()
        rows, frame_bytes, timings = result
        del result
        release_memory()
        after = rss_bytes()
        totals.append(total)
        stages.append(timings)
        if first is None:
            first = {"before": before, "peak": peak, "after": after, "rows": rows, "frame": frame_bytes}
    keys = stages[0].keys() if stages and stages[0] else []
    return {**first, "total": statistics.median(totals), "samples": totals,
            "stages": {k: statistics.median(s[k] for s in stages) for k in keys}}


def child(payload: dict) -> dict:
    settings = settings_for(payload["central_url"], payload["var_dir"])
    rt = build_runtime(settings)
    rt.meta.get(SLUG)
    window = (datetime.fromisoformat(payload["start"]), datetime.fromisoformat(payload["end"]))
    frags = [SqlFragment(time_range=window)]
    hour = (window[0], window[0] + timedelta(hours=1))
    if payload["kind"] == "reader":
        def run(frags=frags):
            mf = build_master_frame(rt, SLUG, frags, set(payload["columns"]), reader=payload["reader"])
            return mf.rows, int(mf.frame.memory_usage(deep=True).sum()), dict(mf.timings)
        return _measure(run, payload["repeat"], lambda: run([SqlFragment(time_range=hour)]))
    engine = create_engine(rt.db.tenant_url(SLUG), poolclass=NullPool)
    branches = [
        f"SELECT d.*, l.*, a.*, p.* FROM detections_{int(i)} d JOIN `lines` l ON l.id = {int(i)} "
        f"JOIN areas a ON a.id = l.area_id JOIN products p ON p.id = d.product_id "
        f"WHERE d.ts >= :a AND d.ts < :b" for i in payload["line_ids"]
    ]
    sql = text(" UNION ALL ".join(branches))

    def naive(bounds=window):
        frame = pd.read_sql(sql, engine, params={"a": bounds[0], "b": bounds[1]})
        return len(frame), int(frame.memory_usage(deep=True).sum()), {}
    return _measure(naive, payload["repeat"], lambda: naive(hour))


# ---------------------------------------------------------------- counting traps

def defects(env: dict, repeat: int) -> dict[str, list[float]]:
    """Alternating rounds of ConnectorX with/without LIMIT and UNION/per-table exact counts."""
    import connectorx as cx
    from sqlalchemy import func, select, union_all

    settings = settings_for(env["central_url"], env["var_dir"])
    rt = build_runtime(settings)
    window = (datetime.fromisoformat(env["start"]), datetime.fromisoformat(env["end"]))
    with rt.db.tenant(SLUG) as conn:
        routed = route_partitions(conn, rt.query_state.partitions, env["line_ids"], window)
    query = build_query(env["line_ids"], source_columns_for(set(COLUMNS)), [SqlFragment(time_range=window)],
                        partitions=routed, limit=settings.max_rows + 1)
    url = make_url(env["tenant_url"]).set(drivername="mysql", query={}).render_as_string(hide_password=False)
    plain = [render_literal_mysql(b) for b in query.branch_statements()]
    limited = [render_literal_mysql(b.limit(query.limit)) for b in query.branches]
    union_count = select(func.count()).select_from(union_all(*query.branches).subquery("c"))
    labels = ("cx LIMIT", "cx no LIMIT", "count UNION", "count per table")
    out: dict[str, list[float]] = {k: [] for k in labels}

    def cx_all(sqls: list[str]) -> int:
        return sum(len(cx.read_sql(url, sql)) for sql in sqls)

    for _ in range(repeat):
        for label, sqls in (("cx LIMIT", limited), ("cx no LIMIT", plain)):
            t0 = time.perf_counter()
            n = cx_all(sqls)
            out[label].append(time.perf_counter() - t0)
            release_memory()
        with rt.db.tenant(SLUG) as conn:
            t0 = time.perf_counter()
            a = int(conn.execute(union_count).scalar())
            out["count UNION"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            b = sum(int(conn.execute(s).scalar()) for s in query.count_statements())
            out["count per table"].append(time.perf_counter() - t0)
        assert a == b == n, (a, b, n)
    rt.db.dispose()
    return out


def report_defects(rows: int, out: dict[str, list[float]]) -> None:
    med = {k: statistics.median(v) for k, v in out.items()}
    rounds = len(out["cx LIMIT"])
    print(f"\n== counting traps, MariaDB, {rows:,} detections (medians of {rounds}) ==")
    for k, v in out.items():
        print(f"{k:<18} {med[k]:7.2f} s   samples {', '.join(f'{x:.2f}' for x in v)}")
    print(f"ConnectorX with LIMIT / without: {med['cx LIMIT'] / med['cx no LIMIT']:.2f}×")
    print(f"413 count UNION ALL / per table: {med['count UNION'] / med['count per table']:.2f}×")


# ---------------------------------------------------------------- report

def row(label: str, r: dict, cli_s: float | None) -> str:
    if "error" in r:
        return f"{label:<28} ERROR {r['error']}"
    st = r.get("stages") or {}
    stage = " ".join(f"{st.get(k, float('nan')):6.2f}" for k in ("query", "fetch", "dataframe", "joins"))
    if not st:
        stage = " " * 27 + "-"
    vs_cli = f"{r['total'] / cli_s:5.1f}×" if cli_s else "    -"
    return (f"{label:<28} {r['total']:7.2f} {stage}  {r['rows'] / r['total']:>11,.0f} {vs_cli}"
            f"  {mb(r['before']):>10} {mb(r['peak']):>10} {mb(r['after']):>10} {mb(r['frame']):>10}")


def report(backend: str, rows: int, env: dict, results: dict, cli: dict | None) -> None:
    print(f"\n== {backend}: {rows:,} detections, {len(env['line_ids'])} lines, "
          f"{env['start'][:10]} .. {env['end'][:10]} (load {env['load_s']:.1f} s) ==")
    print(f"columns: {', '.join(COLUMNS)}")
    print(f"{'path':<28} {'total s':>7}  query  fetch  dataf  joins       rows/s  /CLI"
          f"  {'RSS before':>10} {'RSS peak':>10} {'after rel.':>10} {'frame':>10}")
    cli_s = cli.get("total") if cli and "total" in cli else None
    if cli is not None:
        print(f"{'mariadb CLI dump':<28} {cli_s:7.2f}" if cli_s else f"mariadb CLI: {cli.get('error')}")
    for label, r in results.items():
        print(row(label, r, cli_s))
    readers = {k: v for k, v in results.items() if k.startswith("reader ") and "error" not in v}
    if not readers:
        return
    name, best = min(readers.items(), key=lambda kv: kv[1]["total"])
    print(f"\nfastest: {name} {best['total']:.2f} s ({best['rows'] / best['total']:,.0f} rows/s)")
    if cli_s:
        ratio = best["total"] / cli_s
        print(f"  vs mariadb CLI dump: {ratio:.2f}× (target ≤ {TARGET_CLI}×) "
              f"{'OK' if ratio <= TARGET_CLI else 'MISSED'}")
    growth = (best["peak"] - best["before"]) / best["frame"]
    print(f"  peak RSS growth / frame memory_usage(deep): {mb(best['peak'] - best['before'])} / "
          f"{mb(best['frame'])} = {growth:.2f}× (target < {TARGET_PEAK}×) "
          f"{'OK' if growth < TARGET_PEAK else 'MISSED'}")
    after = (best["after"] - best["before"]) / best["before"]
    print(f"  RSS after release vs before: {after:+.1%} (target within ±{TARGET_AFTER:.0%}) "
          f"{'OK' if abs(after) <= TARGET_AFTER else 'MISSED'}")
    naive = results.get("naive baseline")
    if naive and "error" not in naive:
        print(f"  vs naive baseline: {naive['total'] / best['total']:.1f}× faster, peak RSS "
              f"{mb(naive['peak'] - naive['before'])} vs {mb(best['peak'] - best['before'])}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--backends", default="mysql,sqlite")
    parser.add_argument("--repeat", type=int, default=3, help="runs per fast path (median)")
    parser.add_argument("--slow-repeat", type=int, default=1, help="runs for PyMySQL and the baseline")
    parser.add_argument("--defects", action="store_true", help="add the counting traps (MariaDB)")
    parser.add_argument("--defects-only", action="store_true", help="only the counting traps")
    add_child_arguments(parser)
    args = parser.parse_args()
    if answered_as_child(args, child):
        return
    print_machine(machine_info(READER_PACKAGES))
    for backend in backend_names(args.backends):
        with scratch_run(backend, args.mysql_url, "cbx") as (var_dir, prefix):
            env = prepare(backend, args.rows, args.days, args.mysql_url, var_dir, prefix)
            base = {k: env[k] for k in ("central_url", "var_dir", "start", "end", "line_ids")}
            if backend == "mysql" and (args.defects or args.defects_only):
                report_defects(args.rows, defects(env, args.repeat))
            if args.defects_only:
                continue
            cli = cli_dump(env, COLUMNS, args.repeat) if backend == "mysql" else None
            results: dict[str, dict] = {}
            for reader in available_readers(backend):
                slow = reader.name == "pymysql"
                payload = {**base, "kind": "reader", "reader": reader.name, "columns": COLUMNS,
                           "repeat": args.slow_repeat if slow else args.repeat}
                results[f"reader {reader.name}"] = run_child(SCRIPT, payload)
            fastest = available_readers(backend)[0].name
            results[f"{fastest}, 2 columns"] = run_child(SCRIPT, {
                **base, "kind": "reader", "reader": fastest, "columns": TWO_COLUMNS, "repeat": args.repeat})
            results["naive baseline"] = run_child(SCRIPT, {
                **base, "kind": "naive", "repeat": args.slow_repeat})
            report(backend, args.rows, env, results, cli)
    print(f"\nRSS units: {MB} bytes = 1 MB; times are medians. The naive baseline reads every column"
          " of the JOINed tables with default dtypes and assigns no shifts; its stages are not split.")


if __name__ == "__main__":
    main()
