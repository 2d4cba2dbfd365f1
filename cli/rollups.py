"""`rollups rebuild`: re-aggregate one line's rollups over a range of plant-local dates."""

from __future__ import annotations

import argparse
import time
from datetime import date, datetime, timedelta

from cli.base import fail, runtime
from core.tenants import get_tenant
from rollups.job import rebuild_line_range

MAX_DAYS = 3660


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rollups", help="maintain the rollups (see README, Jobs)")
    rollup_sub = p.add_subparsers(dest="rollups_command", required=True, metavar="ACTION")
    rebuild = rollup_sub.add_parser("rebuild", help="re-aggregate one line's rollups for a date range")
    rebuild.add_argument("--tenant", required=True)
    rebuild.add_argument("--line", required=True, help="line code, e.g. L1")
    rebuild.add_argument("--from", dest="first", required=True, type=_day, help="first date (YYYY-MM-DD)")
    rebuild.add_argument("--to", dest="last", required=True, type=_day,
                         help="last date, inclusive (YYYY-MM-DD); plant local time")
    rebuild.set_defaults(handler=rebuild_cmd)


def rebuild_cmd(args: argparse.Namespace) -> int:
    """Rebuild [--from 00:00, --to + 1 day 00:00) of one line; buckets not yet ended are skipped."""
    rt = runtime(args)
    if get_tenant(rt.db, args.tenant) is None:
        fail(f"unknown tenant {args.tenant!r}")
    if args.last < args.first:
        fail("--to is before --from")
    if (args.last - args.first).days >= MAX_DAYS:
        fail(f"at most {MAX_DAYS} days at a time")
    meta = rt.meta.get(args.tenant)
    line = meta.line_by_code(args.line)
    started = time.perf_counter()
    start = datetime.combine(args.first, datetime.min.time())
    end = datetime.combine(args.last + timedelta(days=1), datetime.min.time())
    result = rebuild_line_range(rt, meta, line, start, end)
    print(f"rollups of {line.code} from {args.first} to {args.last}: {result.rows:,} rows in "
          f"{result.chunks} chunk(s) ({time.perf_counter() - started:.1f}s)")
    return 0
