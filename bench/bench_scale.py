"""Benchmark: the default dashboard end to end, by data size and date window, on MariaDB.

For each dataset `ROWS:DAYS` (ROWS detections over the DAYS ending now, three lines, loaded
with LOAD DATA by bench_extract's `prepare`) the script builds the rollups with the rollup job
(timed), installs the default filters and dashboard, and then, for every window of the last
1, 7, 30 and 365 production days that fits, measures in a fresh serving process:

- auto:    `POST /api/v1/dashboard/run` through the engine app, result cache off: median
           seconds, the plan the planner chose, Server-Timing stages, detections in the window,
           the serving process's RSS before / peak / after;
- cached:  the same run repeated with the result cache on (the second and later answers);
- naive:   the same run with CAMET_PLANNER_PATH=raw (every detection of the window read into
           pandas, as before the rollups), skipped above --naive-max detections;
- dump:    the `mariadb` client printing the window's raw rows to /dev/null, the floor of any
           design that reads every detection.

    .venv/bin/python bench/bench_scale.py --datasets 1000000:30,5000000:30
    .venv/bin/python bench/bench_scale.py --datasets 100000000:365 --keep /var/tmp/camet100m  # once
    .venv/bin/python bench/bench_scale.py --reuse /var/tmp/camet100m                          # again

`--keep DIR` leaves the database and DIR/env.json for a later `--reuse DIR`; otherwise the
MariaDB databases created here are dropped at the end.
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
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import bench_extract  # noqa: E402
from bench._common import (  # noqa: E402
    add_child_arguments,
    answered_as_child,
    drop_databases,
    machine_info,
    print_machine,
    run_child,
)

SCRIPT = Path(__file__).resolve()
SLUG = bench_extract.SLUG
WINDOWS = (1, 7, 30, 365)
USER, PASSWORD = "bench", "bench-pass-123456"
MB = 1024 * 1024


def prepare(rows: int, days: int, mysql_url: str, keep: Path | None) -> dict:
    """bench_extract's installation ending now, rolled up, with the default dashboard and a user."""
    from cli.defaults import install_tenant_defaults
    from core.runtime import build_runtime
    from identity.users import create_user
    from rollups.job import roll_tenant

    var_dir = keep or Path(tempfile.mkdtemp(prefix="camet_scale_"))
    var_dir.mkdir(parents=True, exist_ok=True)
    prefix = f"cbs_{uuid.uuid4().hex[:8]}"
    bench_extract.START = datetime.now().replace(microsecond=0) - timedelta(days=days)
    env = bench_extract.prepare("mysql", rows, days, mysql_url, var_dir, prefix)
    rt = build_runtime(bench_extract.settings_for(env["central_url"], env["var_dir"]))
    t0 = time.perf_counter()
    rolled = roll_tenant(rt, SLUG)
    env.update(rollup_s=time.perf_counter() - t0, rollup_rows=sum(r.rows for r in rolled),
               rows=rows, days=days, prefix=prefix, mysql_url=mysql_url)
    install_tenant_defaults(rt, SLUG, replace=True)
    create_user(rt.db, tenant=SLUG, username=USER, password=PASSWORD, role="admin")
    rt.db.dispose()
    (var_dir / "env.json").write_text(json.dumps(env))
    return env


def catch_up(env: dict) -> float:
    """Roll what arrived since the dataset was kept (nothing new: only the watermark moves)."""
    from core.runtime import build_runtime
    from rollups.job import roll_tenant

    rt = build_runtime(bench_extract.settings_for(env["central_url"], env["var_dir"]))
    t0 = time.perf_counter()
    roll_tenant(rt, SLUG)
    rt.db.dispose()
    return time.perf_counter() - t0


def child(payload: dict) -> dict:
    """One serving process: warm up on one day, then `repeat` runs of the window."""
    from fastapi.testclient import TestClient

    from app_fastapi.main import create_app
    from core.clock import plant_now
    from core.memory import peak_rss_bytes, reset_peak_rss, rss_bytes
    from core.runtime import build_runtime
    from identity.engine_tokens import Principal, issue_token
    from identity.users import find_user

    settings = bench_extract.settings_for(payload["central_url"], payload["var_dir"])
    settings.result_cache_ttl_s = 60.0 if payload["mode"] == "cached" else 0.0
    settings.planner_path = "raw" if payload["mode"] == "naive" else "auto"
    settings.external_apis_file = Path(payload["var_dir"]) / "no_apis.yml"
    settings.external_apis_file.write_text("apis: {}\n")
    rt = build_runtime(settings)
    user = find_user(rt.db, tenant=SLUG, username=USER)
    token = issue_token(settings, Principal(user.id, user.username, SLUG, user.role))
    meta = rt.meta.get(SLUG)
    today = (plant_now(rt.clock, meta.timezone) - meta.day_offset).date()

    def body(days: int) -> dict:
        start = (today - timedelta(days=days - 1)).isoformat()
        return {"filters": {"fecha": {"preset": "personalizado", "start": start, "end": today.isoformat()}}}

    out: dict = {"samples": []}
    with TestClient(create_app(rt)) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        client.post("/api/v1/dashboard/run", json=body(1)).raise_for_status()
        if payload["mode"] == "cached":
            client.post("/api/v1/dashboard/run", json=body(payload["window"])).raise_for_status()
        out["rss_before"] = rss_bytes()
        reset_peak_rss()
        for _ in range(payload["repeat"]):
            t0 = time.perf_counter()
            response = client.post("/api/v1/dashboard/run", json=body(payload["window"]))
            out["samples"].append(time.perf_counter() - t0)
            response.raise_for_status()
        out["rss_peak"] = peak_rss_bytes()
        out["rss_after"] = rss_bytes()
    answer = response.json()
    out.update(total=statistics.median(out["samples"]), plan=answer["meta"].get("plan") or {},
               rows=answer["meta"].get("rows"), served=answer["meta"].get("served"),
               timings=answer["meta"].get("timings", {}), spans=answer["meta"].get("spans", {}),
               widget_errors=sum(1 for w in answer["widgets"] if w.get("error")),
               widgets=len(answer["widgets"]))
    return out


def dump(env: dict, window_days: int, repeat: int) -> dict:
    """The `mariadb` client printing the window's raw rows (ts, product, weight, status)."""
    from core.clock import plant_now
    from core.runtime import build_runtime

    rt = build_runtime(bench_extract.settings_for(env["central_url"], env["var_dir"]))
    meta = rt.meta.get(SLUG)
    day = (plant_now(rt.clock, meta.timezone) - meta.day_offset).date()
    start = datetime.combine(day - timedelta(days=window_days - 1), datetime.min.time()) + meta.day_offset
    rt.db.dispose()
    window = {**env, "start": start.isoformat(), "end": (start + timedelta(days=window_days)).isoformat()}
    return bench_extract.cli_dump(window, ["ts", "product_id", "weight_g", "status"], repeat)


def measure(env: dict, windows: list[int], repeat: int, naive_max: int) -> list[dict]:
    base = {k: env[k] for k in ("central_url", "var_dir")}
    results = []
    for window in windows:
        row: dict = {"window": window}
        for mode in ("auto", "cached", "naive"):
            if mode == "naive" and row["auto"].get("rows", 0) > naive_max:
                row[mode] = {"skipped": f"more than {naive_max:,} detections"}
                continue
            row[mode] = run_child(SCRIPT, {**base, "window": window, "mode": mode,
                                           "repeat": 5 if mode == "cached" else repeat}, timeout_s=3600)
        row["dump"] = dump(env, window, repeat)
        results.append(row)
    return results


def _stages(r: dict) -> str:
    t = r.get("timings", {})
    spans = r.get("spans", {})
    parts = [f"{k} {t[k]:.0f}" for k in ("filters", "fetch", "grain", "widgets") if t.get(k)]
    parts += [f"{k}-span {v[1] - v[0]:.0f}" for k, v in spans.items() if v and v[1] > v[0]]
    return ", ".join(parts) + " ms"


def _why(result: dict) -> str:
    return str(result.get("skipped") or result.get("error") or "")


def report(env: dict, results: list[dict]) -> None:
    rate = env["rows"] / env["rollup_s"] if env.get("rollup_s") else 0
    print(f"\n## MariaDB: {env['rows']:,} detections over {env['days']} days ending {env['end'][:16]}"
          f" (load {env['load_s']:.0f} s; rollup job from scratch {env.get('rollup_s', 0):.0f} s ="
          f" {rate:,.0f} detections/s)")
    print("| window | detections | auto s | plan | stages | RSS before / peak / after MB | cached s |"
          " naive s | mariadb dump s | naive ÷ auto | dump ÷ auto |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for row in results:
        auto, cached, naive, dmp = row["auto"], row["cached"], row["naive"], row["dump"]
        if "error" in auto:
            print(f"| {row['window']} d | error: {auto['error']} |")
            continue
        plan = auto["plan"]
        rss = f"{auto['rss_before'] / MB:.0f} / {auto['rss_peak'] / MB:.0f} / {auto['rss_after'] / MB:.0f}"
        cached_s = f"{cached['total']:.3f} ({cached['served']})" if "total" in cached else _why(cached)
        naive_s = f"{naive['total']:.3f}" if "total" in naive else _why(naive)
        dump_s = f"{dmp['total']:.3f}" if "total" in dmp else _why(dmp)
        ratio = f"{naive['total'] / auto['total']:.1f}" if "total" in naive else "–"
        dump_ratio = f"{dmp['total'] / auto['total']:.1f}" if "total" in dmp else "–"
        grain = f"{plan.get('bucket_minutes')} min, {plan.get('grain_rows', 0):,} grain rows"
        print(f"| {row['window']} d | {auto['rows']:,} | {auto['total']:.3f} | {plan.get('path')} ({grain})"
              f" | {_stages(auto)} | {rss} | {cached_s} | {naive_s} | {dump_s} | {ratio} | {dump_ratio} |")
        if auto.get("widget_errors"):
            print(f"  - {auto['widget_errors']} of {auto['widgets']} widgets answered an error")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="1000000:30,5000000:30", help="ROWS:DAYS,…")
    parser.add_argument("--windows", default=",".join(map(str, WINDOWS)))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--naive-max", type=int, default=6_000_000)
    parser.add_argument("--keep", type=Path, help="keep the (single) dataset's database and env in DIR")
    parser.add_argument("--reuse", type=Path, help="measure a dataset kept with --keep")
    add_child_arguments(parser)
    args = parser.parse_args()
    if answered_as_child(args, child):
        return
    print_machine(machine_info(("pandas", "sqlalchemy", "pymysql", "connectorx")))
    print(f"load average at start: {os.getloadavg()}")
    windows = [int(w) for w in args.windows.split(",") if w.strip()]
    if args.reuse:
        env = json.loads((args.reuse / "env.json").read_text())
        print(f"reused dataset {args.reuse} (rolling what is new took {catch_up(env):.1f} s)")
        report(env, measure(env, [w for w in windows if w <= env["days"]], args.repeat, args.naive_max))
        return
    for spec in [s for s in args.datasets.split(",") if s.strip()]:
        rows, days = (int(x) for x in spec.split(":"))
        env = prepare(rows, days, args.mysql_url, args.keep)
        try:
            report(env, measure(env, [w for w in windows if w <= days], args.repeat, args.naive_max))
        finally:
            if args.keep is None:
                drop_databases(args.mysql_url, env["prefix"])
                shutil.rmtree(env["var_dir"], ignore_errors=True)
    print(f"\nload average at end: {os.getloadavg()}; times are medians; each cell's serving process"
          " is fresh and warmed up on a one-day run first; RSS is that process's.")


if __name__ == "__main__":
    main()
