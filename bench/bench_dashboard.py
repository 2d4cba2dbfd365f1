"""Run time of the default demo dashboard, in-process, per date preset (compare before and after a change).

Seeds a throw-away demo tenant (SQLite, or MariaDB with --mysql-url) with `seed-demo`'s code,
then posts /api/v1/dashboard/run REPEAT times per preset through the engine app (no HTTP
server, no external provider: the FX API points at a closed port and fails at once) and
prints the median of the run's own `meta.timings.total`, the spans of the DB read and the plant
data, and how many widgets answered. `--root` imports another checkout (e.g. main) so the same
script measures the code before a change:

    .venv/bin/python bench/bench_dashboard.py [--days 7] [--rows 200000] [--repeat 5]
    .venv/bin/python bench/bench_dashboard.py --root /work/main   # the "before" figures
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

PRESETS = ("hoy", "ayer", "ultimos_7_dias")


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--mysql-url", default=None, help="MariaDB server URL (a throw-away database prefix)")
    return parser.parse_args()


def main() -> int:
    args = parse()
    sys.path.insert(0, str(args.root.resolve()))
    from fastapi.testclient import TestClient

    from app_fastapi.main import create_app
    from bench._common import machine_info, print_machine
    from cli.demo import seed_demo_tenant
    from core import migrations
    from core.runtime import build_runtime
    from tests.dashboard_support import bearer, demo_principal, write_manifest
    from tests.helpers import drop_mysql_databases, frozen_test_clock, make_settings
    from tests.provider_server import closed_port_url

    print_machine(machine_info(("pandas", "sqlalchemy")))
    if args.mysql_url:
        import tests.helpers as helpers

        helpers.MYSQL_URL = args.mysql_url
    tmp = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    settings, prefix = make_settings("mysql" if args.mysql_url else "sqlite", tmp / "var")
    rt = build_runtime(settings, clock=frozen_test_clock())
    try:
        migrations.upgrade_central(rt.db.central_engine)
        seed_demo_tenant(rt, days=args.days, rows=args.rows, quiet=True)
        rt.settings.external_apis_file = write_manifest(tmp / "apis.yml", closed_port_url())
        print(f"code: {args.root.resolve()}  demo: {args.days} days, {args.rows} rows, "
              f"{'MariaDB' if args.mysql_url else 'SQLite'}, median of {args.repeat} runs (ms)")
        with TestClient(create_app(rt)) as client:
            client.headers.update(bearer(rt, demo_principal(rt)))
            for preset in PRESETS:
                totals, db, plant, ok, count = [], [], [], 0, 0
                for _ in range(args.repeat):
                    body = client.post("/api/v1/dashboard/run",
                                       json={"filters": {"fecha": {"preset": preset}}}).json()
                    totals.append(body["meta"]["timings"]["total"])
                    spans = body["meta"].get("spans", {})
                    db.append(_length(spans.get("db")))
                    plant.append(_length(spans.get("plant")))
                    count = len(body["widgets"])
                    ok = sum(1 for w in body["widgets"] if w.get("error") is None)
                print(f"{preset:>15}: total {statistics.median(totals):8.1f}"
                      f"  db span {statistics.median(db):8.1f}  plant span {statistics.median(plant):8.1f}"
                      f"  widgets {ok}/{count} without error")
    finally:
        rt.close()
        if prefix:
            drop_mysql_databases(prefix)
    return 0


def _length(span: list[float] | None) -> float:
    return span[1] - span[0] if span else 0.0


if __name__ == "__main__":
    raise SystemExit(main())
