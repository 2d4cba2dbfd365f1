"""`jobs list` and `jobs run NAME [--tenant T]`: the scheduler's jobs, by hand.

A hand run takes the same run lock as the scheduler (jobs/run_lock.py): while the job runs for
a tenant in another process, that tenant's hand run does not start and the command fails.
"""

from __future__ import annotations

import argparse

from cli.base import fail, runtime
from core.errors import NotFound
from core.tenants import get_tenant
from jobs.registry import get_job, job_registry
from jobs.runs import last_runs, run_by_hand


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("jobs", help="list the background jobs or run one now (see README)")
    jobs_sub = p.add_subparsers(dest="jobs_command", required=True, metavar="ACTION")
    listing = jobs_sub.add_parser("list", help="registered jobs and their last run per tenant")
    listing.set_defaults(handler=list_cmd)
    run = jobs_sub.add_parser("run", help="run a job now for one tenant or all of them")
    run.add_argument("name", help=f"one of: {', '.join(job_registry.names())}")
    run.add_argument("--tenant", default=None, help="tenant slug (default: every tenant)")
    run.set_defaults(handler=run_cmd)


def list_cmd(args: argparse.Namespace) -> int:
    last = last_runs(runtime(args))
    for spec in job_registry:
        print(f"{spec.name:<14} every {spec.every}  {spec.description}")
        for (job_id, slug), started in sorted(last.items()):
            if job_id == spec.name:
                print(f"  {slug}: last run started {started:%Y-%m-%d %H:%M:%S} UTC")
    return 0


def run_cmd(args: argparse.Namespace) -> int:
    rt = runtime(args)
    get_job(args.name)
    if args.tenant and get_tenant(rt.db, args.tenant) is None:
        raise NotFound(f"unknown tenant {args.tenant!r}")
    results = run_by_hand(rt, args.name, args.tenant)
    for r in results:
        print(f"{r.job} {r.tenant}: {r.status}, {r.rows:,} rows" + (f" ({r.error})" if r.error else ""))
    failed = [r for r in results if r.status != "ok"]
    busy = [r for r in failed if r.status == "busy"]  # its lock is held: nothing ran, nothing recorded
    if len(busy) == 1 and len(failed) == 1:
        fail(str(busy[0].error))
    if failed:
        elsewhere = f", {len(busy)} of them already running elsewhere" if busy else ""
        fail(f"{len(failed)} run(s) failed{elsewhere}")
    return 0
