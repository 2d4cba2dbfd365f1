"""Benchmark: the default dashboard's data by the planner's paths (rollup, push-down, raw).

Creates a throw-away installation like bench_extract.py (its `prepare`: tenant "bench", the demo
plant, N detections over 3 lines spread over --days ending now), builds the rollups with the
rollup job (timed: detections rolled per second), then, in a fresh process per measurement so
RSS numbers are its own, reads the default layout's widget data for the last 1, 7, 30 and 365
production days and runs every default internal widget on it:

- auto:     the planner's choice (its path and reason are printed);
- pushdown: GROUP BY over the detections, forced;
- raw:      the naive raw pipeline, forced: every detection read into pandas, then grouped.

Reported per window and path: median seconds, stages, rows (detections), grain rows, RSS
before / peak / after. MariaDB databases created here are dropped at the end.

    .venv/bin/python bench/bench_planner.py [--rows 1000000] [--days 365] [--backends mysql,sqlite]
    .venv/bin/python bench/bench_planner.py --rows 5000000 --backends mysql
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import bench_extract  # noqa: E402
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
from core.clock import plant_now  # noqa: E402
from core.runtime import build_runtime  # noqa: E402
from filters import build_filter_set  # noqa: E402
from filters.defaults import DEFAULT_FILTER_ROWS  # noqa: E402
from query.grain import FrameNeed  # noqa: E402
from query.planner import read_grained  # noqa: E402
from widgets import widget_registry  # noqa: E402
from widgets.base import WidgetContext  # noqa: E402
from widgets.defaults import DEFAULT_WIDGET_ROWS  # noqa: E402

SCRIPT = Path(__file__).resolve()
SLUG = bench_extract.SLUG
WINDOWS = (1, 7, 30, 365)
PATHS = ("auto", "pushdown", "raw")


def prepare(backend: str, rows: int, days: int, mysql_url: str, var_dir: Path, prefix: str) -> dict:
    """bench_extract's installation with its data ending now, plus the rollups (timed)."""
    now = datetime.now().replace(microsecond=0)  # the children's runtime runs on the real clock
    bench_extract.START = now - timedelta(days=days)
    env = bench_extract.prepare(backend, rows, days, mysql_url, var_dir, prefix)
    from rollups.job import roll_tenant

    rt = build_runtime(bench_extract.settings_for(env["central_url"], env["var_dir"]))
    t0 = time.perf_counter()
    rolled = roll_tenant(rt, SLUG)
    env["rollup_s"] = time.perf_counter() - t0
    env["rollup_rows"] = sum(r.rows for r in rolled)
    rt.db.dispose()
    return env


def child(payload: dict) -> dict:
    rt = build_runtime(bench_extract.settings_for(payload["central_url"], payload["var_dir"]))
    meta = rt.meta.get(SLUG)
    filter_set = build_filter_set(DEFAULT_FILTER_ROWS, meta)
    today = (plant_now(rt.clock, meta.timezone) - meta.day_offset).date()

    def fragments(days: int) -> list:
        raw = {"fecha": {"preset": "personalizado", "start": (today - timedelta(days=days - 1)).isoformat(),
                         "end": today.isoformat()}}
        return filter_set.fragments(filter_set.validate(raw))

    def widgets(frags: list) -> list:
        window = next((f.time_range for f in frags if f.time_range is not None), None)
        context = WidgetContext(time_range=window, timezone=meta.timezone, day_start=meta.day_offset,
                                now=plant_now(rt.clock, meta.timezone))
        out = []
        for i, row in enumerate(DEFAULT_WIDGET_ROWS):
            widget = widget_registry.get(row["class_name"])(
                widget_id=i + 1, title=row["title"], config=row["config"], context=context)
            if widget.source_type == "internal":
                out.append(widget)
        return out

    plans: list[dict] = []

    def run(days: int = payload["days"]) -> tuple[int, int, dict]:
        frags = fragments(days)
        live = widgets(frags)
        needs = {w.widget_id: FrameNeed(w.columns(), w.measure_columns(), w.raw_rows) for w in live}
        path = None if payload["path"] == "auto" else payload["path"]
        read = read_grained(rt, SLUG, frags, needs.values(), path=path)
        t0 = time.perf_counter()
        for widget in live:
            widget.process_data(read.frames[needs[widget.widget_id]])
        timings = {**read.timings, "widgets": time.perf_counter() - t0}
        plans.append(read.plan)
        size = sum(int(f.memory_usage(deep=True).sum()) for f in read.frames.values())
        return read.rows, size, timings

    result = bench_extract._measure(run, payload["repeat"], lambda: run(1))
    return {**result, "plan": plans[-1]}


def report(backend: str, rows: int, env: dict, results: dict) -> None:
    rate = env["rollup_rows"] and rows / env["rollup_s"]
    print(f"\n## {backend}: {rows:,} detections over {env['start'][:10]} .. {env['end'][:10]}"
          f" (load {env['load_s']:.1f} s; rollup job {env['rollup_s']:.1f} s = {rate:,.0f} detections/s,"
          f" {env['rollup_rows']:,} rollup rows)")
    print("| days | path | total s | stages (s) | detections | grain rows | RSS before / peak / after |"
          " plan |")
    print("|---|---|---|---|---|---|---|---|")
    for (days, path), r in results.items():
        if "error" in r:
            print(f"| {days} | {path} | error: {r['error']} |")
            continue
        stages = ", ".join(f"{k} {v:.3f}" for k, v in r["stages"].items() if v >= 0.0005)
        plan = r["plan"]
        rss = f"{mb(r['before'])} / {mb(r['peak'])} / {mb(r['after'])}"
        print(f"| {days} | {path} | {r['total']:.3f} | {stages} | {r['rows']:,} |"
              f" {plan.get('grain_rows', 0):,} | {rss} | {plan['path']}: {plan['reason']} |")
    for days in WINDOWS:
        auto, raw = results.get((days, "auto"), {}), results.get((days, "raw"), {})
        if "total" in auto and "total" in raw:
            print(f"- {days} days: raw pipeline time ÷ auto time = {raw['total'] / auto['total']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--backends", default="mysql,sqlite")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--paths", default=",".join(PATHS))
    add_child_arguments(parser)
    args = parser.parse_args()
    if answered_as_child(args, child):
        return
    print_machine(machine_info(READER_PACKAGES))
    for backend in backend_names(args.backends):
        with scratch_run(backend, args.mysql_url, "cbp") as (var_dir, prefix):
            env = prepare(backend, args.rows, args.days, args.mysql_url, var_dir, prefix)
            base = {k: env[k] for k in ("central_url", "var_dir")}
            results = {}
            for days in [d for d in WINDOWS if d <= args.days]:
                for path in [p.strip() for p in args.paths.split(",") if p.strip()]:
                    results[(days, path)] = run_child(SCRIPT, {**base, "days": days, "path": path,
                                                               "repeat": args.repeat})
            report(backend, args.rows, env, results)
    print(f"\nRSS units: {MB} bytes = 1 MB; times are medians of --repeat runs after a 1-day warm-up run,"
          " each measurement in a fresh process; 'total' covers reading and every default internal widget.")


if __name__ == "__main__":
    main()
