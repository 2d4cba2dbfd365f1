"""`import-detections`: load a line's historical detections from CSV."""

from __future__ import annotations

import argparse
from datetime import date

from cli.base import fail, runtime
from core.plausibility import Plausibility
from core.tenants import get_tenant
from ingest.csv_import import MIN_YEAR, import_detections

HISTORY_COST = ("importing history from {day}: rows from that date on are accepted, the plant's history "
                "start moves back to the earliest row imported (the ingestion API then accepts it too), "
                "the next gap-analysis and rollup runs redo every date from there (they take longer), and "
                "MariaDB gets a partition for every month that holds rows")


def _day(text: str) -> date:
    try:
        value = date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a date YYYY-MM-DD") from None
    if value.year < MIN_YEAR:
        raise argparse.ArgumentTypeError(f"must be a date from {MIN_YEAR}-01-01 on")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import-detections", help="import a line's detections from CSV (see README)")
    p.add_argument("--tenant", required=True)
    p.add_argument("--line", required=True, help="line code, e.g. L1")
    p.add_argument("--skip-bad", action="store_true", help="import the good rows, report the bad ones")
    p.add_argument("--allow-history-from", type=_day, metavar="YYYY-MM-DD",
                   help="accept rows from this date on, before the plant's history start (an admin's "
                        "explicit import of older history; the future bound is never lifted)")
    p.add_argument("file")
    p.set_defaults(handler=import_cmd)


def import_cmd(args: argparse.Namespace) -> int:
    rt = runtime(args)
    if get_tenant(rt.db, args.tenant) is None:
        fail(f"unknown tenant {args.tenant!r}")
    meta = rt.meta.get(args.tenant)
    if args.allow_history_from is not None:
        print(HISTORY_COST.format(day=args.allow_history_from.isoformat()))
    result = import_detections(rt.db, meta, args.line, args.file, clock=rt.clock,
                               skip_bad=args.skip_bad, progress=True,
                               plausibility=Plausibility.of(rt.settings),
                               history_from=args.allow_history_from)
    for message in result.bad_rows:
        print(f"skipped {message}")
    bad = result.rows_read - result.rows_inserted - result.rows_duplicate
    print(f"{result.rows_read:,} rows read, {result.rows_inserted:,} inserted, "
          f"{result.rows_duplicate:,} already present, {bad:,} bad ({result.seconds:.1f}s)")
    if result.history_start is not None:
        print(f"the plant's history start is now {result.history_start.isoformat()}")
    return 0
