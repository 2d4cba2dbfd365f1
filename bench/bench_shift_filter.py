"""Benchmark: the shift filter as `ts` ranges (one per shift instance) against the old per-row
time-of-day predicate (`HOUR(ts)*60+MINUTE(ts)` / `strftime`), reproduced here as the baseline.

Loads N detections over 3 lines and 60 days (October → December 2026, three monthly partitions on
MariaDB) with the bench_extract loader, then runs "últimos 30 días + Noche" and "+ Mañana" both
ways through the dashboard path (filters → query builder → reader → master frame). Both ways
select the same rows (checked); old and new runs alternate. Reported per case and way: a plain
COUNT(*) of the selection (best run), MariaDB's own execution time of that COUNT (ANALYZE
FORMAT=JSON), the master-frame stages (query, fetch, dataframe, joins; median), rows/s, peak
RSS growth, the new/old ratios, and the plans: EXPLAIN PARTITIONS (MariaDB, without the
builder's partition hint, so the optimizer's own pruning from the ts ranges shows) or EXPLAIN
QUERY PLAN (SQLite).

    .venv/bin/python bench/bench_shift_filter.py [--rows 1000000] [--backends mysql,sqlite]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402

from bench._common import drop_databases, machine_info, mb, print_machine  # noqa: E402
from bench.bench_extract import START, prepare, settings_for  # noqa: E402
from core.clock import ManualClock  # noqa: E402
from core.memory import peak_rss_bytes, release_memory, reset_peak_rss, rss_bytes  # noqa: E402
from core.runtime import build_runtime  # noqa: E402
from filters import build_filter_set  # noqa: E402
from filters.defaults import DEFAULT_FILTER_ROWS  # noqa: E402
from query.builder import build_query, render_literal_mysql, resolve_line_ids  # noqa: E402
from query.columns import source_columns_for  # noqa: E402
from query.master_frame import build_master_frame, explain_rows  # noqa: E402
from query.spec import SqlFragment  # noqa: E402

SLUG = "bench"
DAYS = 60
NOW = START + timedelta(days=50, hours=15, minutes=30)  # 4 Dec 2026 15:30 plant time
COLUMNS = {"ts", "line_name", "weight_g", "shift_name", "shift_date"}
CASES = ("noche", "manana")


def fragments(rt, shift_code: str) -> tuple[list[SqlFragment], list[SqlFragment], int]:
    """(new: ts ranges, old: time-of-day predicate, number of ranges) for 30 days + one shift."""
    meta = rt.meta.get(SLUG)
    fs = build_filter_set([dict(r, id=i) for i, r in enumerate(DEFAULT_FILTER_ROWS)], meta, rt.clock)
    values = fs.validate({"fecha": {"start": "2026-11-05", "end": "2026-12-04"},
                          "turnos": [meta.shifts_by_code[shift_code].id]})
    shifts = fs.get("turnos")
    new = fs.fragments(values)
    old = [fs.get("fecha").to_sql(values["fecha"]), shifts._time_of_day(values["turnos"].ids)]
    return new, old, len(shifts.instances(values["turnos"]) or [])


def count(rt, frags: list[SqlFragment]) -> tuple[int, float]:
    meta = rt.meta.get(SLUG)
    query = build_query(resolve_line_ids(meta, frags), {"ts"}, frags)
    t0 = time.perf_counter()
    with rt.db.tenant(SLUG) as conn:
        n = int(conn.execute(query.count_statement()).scalar())
    return n, time.perf_counter() - t0


def frame(rt, frags: list[SqlFragment]) -> dict:
    release_memory()
    before = rss_bytes()
    reset_peak_rss()
    t0 = time.perf_counter()
    master = build_master_frame(rt, SLUG, frags, COLUMNS)
    total = time.perf_counter() - t0
    peak = peak_rss_bytes()
    out = {"rows": master.rows, "total": total, "stages": master.timings, "peak": peak - before}
    del master
    release_memory()
    return out


def plan(rt, backend: str, frags: list[SqlFragment]) -> list[str]:
    meta = rt.meta.get(SLUG)
    line_ids = resolve_line_ids(meta, frags)[:1]
    query = build_query(line_ids, source_columns_for(COLUMNS), frags)  # no partition hint
    with rt.db.tenant(SLUG) as conn:
        if backend == "mysql":
            return [f"partitions={r.get('partitions')} type={r.get('type')} key={r.get('key')} "
                    f"rows={r.get('rows')}" for r in explain_rows(conn, query)]
        compiled = query.statement().compile(dialect=conn.dialect)
        sql = f"EXPLAIN QUERY PLAN {compiled}"
        params = tuple(compiled.params[k] for k in compiled.positiontup)
        return [str(r[-1]) for r in conn.exec_driver_sql(sql, params)]


def _short(lines: list[str]) -> str:
    """Plan lines with repeats folded ("SEARCH ... ×30"); SQLite's "INDEX n" markers dropped."""
    counts: dict[str, int] = {}
    for line in lines:
        if not line.startswith("INDEX "):
            counts[line] = counts.get(line, 0) + 1
    return " | ".join(line if n == 1 else f"{line} ×{n}" for line, n in counts.items())


def median_of(runs: list[dict]) -> dict:
    best = dict(runs[0])
    best["total"] = statistics.median(r["total"] for r in runs)
    best["stages"] = {k: statistics.median(r["stages"][k] for r in runs) for k in runs[0]["stages"]}
    best["peak"] = max(r["peak"] for r in runs)
    return best


def server_ms(rt, frags: list[SqlFragment]) -> float:
    """MariaDB's own execution time of the COUNT (ANALYZE FORMAT=JSON), free of client noise."""
    meta = rt.meta.get(SLUG)
    query = build_query(resolve_line_ids(meta, frags), {"ts"}, frags)
    with rt.db.tenant(SLUG) as conn:
        doc = json.loads(conn.exec_driver_sql("ANALYZE FORMAT=JSON " + render_literal_mysql(
            query.count_statement())).scalar())
    return float(doc["query_block"]["r_total_time_ms"])


def run_backend(backend: str, rows: int, repeat: int, mysql_url: str) -> None:
    var_dir = Path(tempfile.mkdtemp(prefix="camet_bench_shift_"))
    prefix = f"cbs_{uuid.uuid4().hex[:8]}"
    try:
        env = prepare(backend, rows, DAYS, mysql_url, var_dir, prefix)
        rt = build_runtime(settings_for(env["central_url"], env["var_dir"]), clock=ManualClock(NOW))
        print(f"\n== {backend}: {rows:,} detections, 3 lines, {DAYS} days from {START:%Y-%m-%d} "
              f"(loaded in {env['load_s']:.1f} s); window: production days 2026-11-05..2026-12-04")
        frame(rt, fragments(rt, "noche")[0])  # warm-up: imports, drivers, caches
        for code in CASES:
            new, old, ranges = fragments(rt, code)
            # Old and new alternate, so load from other processes hits both alike.
            counts = {"old": [], "new": []}
            frames = {"old": [], "new": []}
            for _ in range(repeat):
                for way, frags in (("old", old), ("new", new)):
                    counts[way].append(count(rt, frags))
                    frames[way].append(frame(rt, frags))
            (n_old, c_old), (n_new, c_new) = (min(counts[w], key=lambda r: r[1]) for w in ("old", "new"))
            assert n_new == n_old, f"{code}: new {n_new} rows, old {n_old}"
            f_old, f_new = median_of(frames["old"]), median_of(frames["new"])
            assert f_new["rows"] == f_old["rows"] == n_new
            print(f"-- últimos 30 días + {code}: {n_new:,} rows ({ranges} ts ranges)")
            print(f"   COUNT(*)      old {c_old * 1000:8.1f} ms   new {c_new * 1000:8.1f} ms   "
                  f"new/old {c_new / c_old:.2f}")
            if backend == "mysql":
                s_old = min(server_ms(rt, old) for _ in range(repeat))
                s_new = min(server_ms(rt, new) for _ in range(repeat))
                print(f"   server time   old {s_old:8.1f} ms   new {s_new:8.1f} ms   "
                      f"new/old {s_new / s_old:.2f}   (ANALYZE FORMAT=JSON r_total_time_ms of the COUNT)")
            for label, r in (("old frame", f_old), ("new frame", f_new)):
                stages = " ".join(f"{k} {v * 1000:.0f}" for k, v in r["stages"].items())
                print(f"   {label:<12} {r['total'] * 1000:8.1f} ms  ({stages} ms)  "
                      f"{r['rows'] / r['total']:,.0f} rows/s  peak +{mb(r['peak'])}")
            print(f"   frame new/old {f_new['total'] / f_old['total']:.2f}")
            print("   plan old: " + _short(plan(rt, backend, old)))
            print("   plan new: " + _short(plan(rt, backend, new)))
        rt.db.dispose()
    finally:
        if backend == "mysql":
            drop_databases(mysql_url, prefix)
        shutil.rmtree(var_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--backends", default="mysql,sqlite")
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (median; COUNT: best)")
    parser.add_argument("--mysql-url", default=os.environ.get(
        "CAMET_BENCH_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/mysql"))
    args = parser.parse_args()
    print_machine(machine_info(("sqlalchemy", "pymysql", "pandas", "numpy", "connectorx")))
    with_mysql = "mysql" in args.backends.split(",")
    if with_mysql:
        from core.db import build_engine, parse_db_url

        server = build_engine(parse_db_url(args.mysql_url))
        with server.connect() as conn:
            print("server:", conn.execute(text("SELECT VERSION()")).scalar())
        server.dispose()
    for backend in args.backends.split(","):
        run_backend(backend.strip(), args.rows, args.repeat, args.mysql_url)


if __name__ == "__main__":
    main()
