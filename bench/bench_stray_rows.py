"""Benchmark: what two stray detections, one from 1999 and one from 2030, cost the jobs.

The hand-made stoppage dataset (tests/stops_dataset.py: line T1, 17-18 Nov 2026, the clock at
18 Nov 15:30) plus one row from 1999-12-31 and one from 2030-01-01 written straight into the
table, as rows that got in before the plausibility window existed. Per backend, in one run: the
gap analysis, the rollups and partition maintenance with their time, statements and chunks, the
stops written (rows, hours of downtime, rows ending after now) and, on MariaDB, the partitions
created. The rows written are the assertion of tests/ingest/test_implausible_data.py; this prints the
cost. Run the same script on a checkout without the fix for the baseline.

    .venv/bin/python bench/bench_stray_rows.py [--backends sqlite,mysql]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd  # noqa: E402
from sqlalchemy import event, func, select  # noqa: E402

from bench._common import machine_info, print_machine  # noqa: E402
from core import migrations, partitions  # noqa: E402
from core import schema_tenant as t  # noqa: E402
from core.partition_upkeep import maintain_tenant  # noqa: E402
from core.runtime import build_runtime  # noqa: E402
from ingest.bulk_load import insert_detections  # noqa: E402
from rollups.job import roll_tenant  # noqa: E402
from stops.job import analyse_tenant  # noqa: E402
from tests.helpers import MYSQL_URL, drop_mysql_databases, frozen_test_clock, make_settings  # noqa: E402
from tests.stops_dataset import NOW  # noqa: E402
from tests.stops_support import SLUG, build_stops_tenant  # noqa: E402

STRAY = ["1999-12-31 10:00:00", "2030-01-01 00:00:00"]


def measure(backend: str) -> None:
    settings, prefix = make_settings(backend, Path(tempfile.mkdtemp(prefix="camet-stray-")))
    clock = frozen_test_clock()
    rt = build_runtime(settings, clock=clock)
    migrations.upgrade_central(rt.db.central_engine)
    try:
        line_id = build_stops_tenant(rt, clock)
        frame = pd.DataFrame({"ts": pd.to_datetime(STRAY), "seq": 0, "product_id": 1, "weight_g": 100.0,
                              "status": 0})
        names = (t.rollups.name, t.detections_table_name(line_id))
        with rt.db.tenant(SLUG) as conn:
            insert_detections(conn, line_id, frame)
            mysql = backend == "mysql"
            before = {n: set(partitions.existing_partitions(conn, n)) for n in names} if mysql else {}
        statements = [0]
        event.listen(rt.db.tenant_engine(SLUG), "before_cursor_execute",
                     lambda *_a: statements.__setitem__(0, statements[0] + 1))
        jobs = (("gap-analysis", lambda: analyse_tenant(rt, SLUG)),
                ("rollups", lambda: roll_tenant(rt, SLUG)),
                ("partitions", lambda: maintain_tenant(rt, SLUG)))
        for name, run in jobs:
            statements[0] = 0
            t0 = time.perf_counter()
            out = run()
            seconds = time.perf_counter() - t0
            chunks = sum(getattr(r, "chunks", 0) for r in out) if isinstance(out, list) else "-"
            print(f"{backend} {name}: {seconds:.2f} s, {statements[0]} statements, chunks {chunks}")
        with rt.db.tenant(SLUG) as conn:
            s = t.stops.c
            rows, downtime = conn.execute(select(func.count(), func.sum(s.downtime_s))
                                          .where(s.kind == "stop")).one()
            future = conn.execute(select(func.count()).where(s.end_ts > NOW + timedelta(seconds=1))).scalar()
            print(f"{backend} stops: {rows} rows, {float(downtime or 0) / 3600:.1f} h downtime, "
                  f"{future} ending after now")
            for name, had in before.items():
                made = set(partitions.existing_partitions(conn, name)) - had
                print(f"{backend} partitions created on {name}: {len(made)}")
    finally:
        rt.close()
        if prefix:
            drop_mysql_databases(prefix)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default="sqlite,mysql" if MYSQL_URL else "sqlite")
    args = parser.parse_args()
    print_machine(machine_info())
    for backend in args.backends.split(","):
        measure(backend.strip())


if __name__ == "__main__":
    main()
