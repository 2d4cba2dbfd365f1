"""Job runs that overlap under faults: two scheduler processes, a slow job, a real fault.

Each round builds a fresh installation, forks two scheduler processes (tests/job_runners.py)
and injects one fault while the first runs the 2.4 s probe job:
  wait_timeout  a private mariadbd with --wait-timeout=1 (the leader's lock connection idles)
  kill          `KILL` of the leader's GET_LOCK connection on a private mariadbd
  sqlite_lease  SQLite with CAMET_JOBS_LEASE_S=1 (the run outlives the lease)
  frozen_sqlite / frozen_mysql  the runner SIGSTOPped past its 2 s lease until the other one
                took the job over and committed, then thawed
Reports per fault the overlapping runs (pairs of runs of different processes whose intervals
intersect) and, for the frozen runner, its chunk commits after its successor's first one. A
correct build has 0 overlapping runs for the first three and 0 late commits for the last two
(a frozen runner overlaps its successor by construction; what matters is that it writes nothing
more). Needs the MariaDB server binaries for the private servers.

    .venv/bin/python bench/bench_job_overlaps.py [--rounds 3] [--faults wait_timeout,kill,...]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import ROOT, machine_info, print_machine  # noqa: E402
from tests.job_runners import frozen_past_the_lease, install, overlaps_with_fault  # noqa: E402
from tests.private_mariadb import PrivateMariaDB, available  # noqa: E402

FAULTS = ("wait_timeout", "kill", "sqlite_lease", "frozen_sqlite", "frozen_mysql")


def _server(servers: Path, *args: str) -> PrivateMariaDB:
    """A private mariadbd under `servers` (which keeps one installation template for all)."""
    server = PrivateMariaDB(servers / f"srv{time.monotonic_ns()}", extra_args=args)
    server.root.mkdir(parents=True)
    server.start()
    return server


def one_round(fault: str, work: Path, servers: Path) -> dict[str, int]:
    """One installation, two runners, one fault: {"overlaps": n} (+ "late_commits" if frozen)."""
    server = None
    if fault in ("wait_timeout", "frozen_mysql"):
        server = _server(servers, "--wait-timeout=1")
    elif fault == "kill":
        server = _server(servers)
    url = server.url("camet") if server else f"sqlite:///{work / 'central.db'}"
    rt = install(url, work / "setup")
    try:
        if fault.startswith("frozen"):
            outcome = frozen_past_the_lease(url, rt, work)
            return {"overlaps": outcome.overlapping_runs, "late_commits": outcome.late_commits}

        def kill_lock_connection() -> None:
            holder = server.execute("SELECT IS_USED_LOCK('camet-jobs:camet')")[0][0]
            server.execute(f"KILL {int(holder)}")

        lease = 1 if fault == "sqlite_lease" else 6
        return {"overlaps": overlaps_with_fault(url, rt, work, lease, kill_lock_connection if fault == "kill"
                                                else None)}
    finally:
        rt.close()
        if server is not None:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--faults", default=",".join(FAULTS))
    parser.add_argument("--out", default=None, help="also write the report here (default bench/results/)")
    args = parser.parse_args()
    faults = [f for f in args.faults.split(",") if f]
    if any(f not in ("sqlite_lease", "frozen_sqlite") for f in faults) and not available():
        sys.exit("mariadbd / mariadb-install-db are not installed")
    info = machine_info(("sqlalchemy", "pymysql", "apscheduler"))
    print_machine(info)
    lines = [f"machine: {info['cpu']}, {info['cores']} cores, {info['ram_gb']} GB RAM; "
             f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {args.rounds} round(s) per fault"]
    with tempfile.TemporaryDirectory() as tmp:
        for fault in faults:
            totals: dict[str, list[int]] = {}
            for n in range(args.rounds):
                work = Path(tmp) / f"{fault}{n}"
                work.mkdir()
                for key, value in one_round(fault, work, Path(tmp) / "mariadb").items():
                    totals.setdefault(key, []).append(value)
            line = f"{fault:<14} " + "  ".join(
                f"{key} {sum(values)} (per round {values})" for key, values in totals.items())
            print(line, flush=True)
            lines.append(line)
    out = Path(args.out) if args.out else ROOT / "bench" / "results" / (
        f"job-overlaps-{datetime.now(UTC):%Y%m%dT%H%MZ}.txt")
    out.write_text("\n".join(lines) + "\n")
    print(f"report: {out}")


if __name__ == "__main__":
    main()
