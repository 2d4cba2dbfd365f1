"""`import-detections`: load a line's historical detections from CSV."""

from __future__ import annotations

import argparse

from cli.base import fail, runtime
from ingest.csv_import import import_detections
from ingest.tenants import get_tenant


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import-detections", help="import a line's detections from CSV (see README)")
    p.add_argument("--tenant", required=True)
    p.add_argument("--line", required=True, help="line code, e.g. L1")
    p.add_argument("--skip-bad", action="store_true", help="import the good rows, report the bad ones")
    p.add_argument("file")
    p.set_defaults(handler=import_cmd)


def import_cmd(args: argparse.Namespace) -> int:
    rt = runtime(args)
    if get_tenant(rt.db, args.tenant) is None:
        fail(f"unknown tenant {args.tenant!r}")
    meta = rt.meta.get(args.tenant)
    result = import_detections(rt.db, meta, args.line, args.file, clock=rt.clock,
                               skip_bad=args.skip_bad, progress=True)
    for message in result.bad_rows:
        print(f"skipped {message}")
    bad = result.rows_read - result.rows_inserted - result.rows_duplicate
    print(f"{result.rows_read:,} rows read, {result.rows_inserted:,} inserted, "
          f"{result.rows_duplicate:,} already present, {bad:,} bad ({result.seconds:.1f}s)")
    return 0
