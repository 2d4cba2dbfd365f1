"""Two job scheduler processes on one installation, a slow job, and the faults of a real host.

Used by tests/jobs/test_jobs_single_runner.py (which asserts) and bench/bench_job_overlaps.py (which
counts, before and after a change). Each runner is a process forked from the caller, so it
starts without importing anything again; it builds its own runtime on the installation, keeps
only the `probe` job in the registry (due once an hour per tenant, so it starts once the caller
creates a tenant) and starts the scheduler as a web process does. The probe sleeps STEP_S, then
commits one `probe_chunks` row (its pid and step) in the tenant database, STEPS times, each
commit fenced like a real job's chunk (`checkpoint`). Every runner appends
`<pid> up|start|commit|end <monotonic s>` to a journal (CLOCK_MONOTONIC is one clock for every
process of the machine), from which overlapping runs are counted; late commits are counted
from the rows.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, Table, insert, select

from core import migrations
from core import schema_central as c
from core.clock import Clock
from core.commit_guard import checkpoint
from core.db import parse_db_url
from core.runtime import Runtime, build_runtime
from core.settings import load_settings
from core.tenants import create_tenant, ensure_database
from jobs.registry import job, job_registry
from jobs.scheduler import ensure_started

PROBE = Table("probe_chunks", MetaData(), Column("id", Integer, primary_key=True, autoincrement=True),
              Column("runner", Integer, nullable=False), Column("step", Integer, nullable=False))
SLUG = "acme"


def note(journal: str, event: str) -> None:
    """One journal line, appended in one write (O_APPEND keeps lines of processes whole)."""
    fd = os.open(journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, f"{os.getpid()} {event} {time.monotonic():.6f}\n".encode())
    finally:
        os.close(fd)


def serve(central: str, var_dir: str, journal: str, steps: int, step_s: float, lease_s: float) -> None:
    """A runner's whole life: a scheduler that ticks every 0.2 s until it is killed."""
    settings = load_settings(env="test", central_db_url=central, var_dir=var_dir, jobs="on",
                             jobs_tick_s=0.2, jobs_lease_s=lease_s, secret_key="s" * 40, jwt_secret="j" * 40)
    rt = build_runtime(settings)
    logging.getLogger("apscheduler").setLevel(logging.ERROR)  # "skipped: maximum number of running instances"
    for spec in job_registry.entries():
        job_registry.unregister(spec)

    @job("probe", every=timedelta(hours=1), description="slow test job")
    def probe(rt: Runtime, slug: str) -> int:
        with rt.db.tenant(slug) as conn:
            PROBE.create(conn, checkfirst=True)
        note(journal, "start")
        try:
            for step in range(steps):
                time.sleep(step_s)
                with rt.db.tenant(slug) as conn:
                    conn.execute(insert(PROBE).values(runner=os.getpid(), step=step))
                    checkpoint(conn)
                note(journal, "commit")
        finally:
            note(journal, "end")
        return steps

    ensure_started(rt)
    note(journal, "up")
    while True:
        time.sleep(1)


def install(url: str, var_dir: Path, clock: Clock | None = None) -> Runtime:
    """A central database without tenants (so nothing is due yet); the caller's runtime on it."""
    settings = load_settings(env="test", central_db_url=url, var_dir=var_dir, secret_key="s" * 40,
                             jwt_secret="j" * 40)
    ensure_database(url)
    rt = build_runtime(settings, clock=clock)
    migrations.upgrade_central(rt.db.central_engine)
    return rt


class Journal:
    """What the runners wrote: events, and the runs they make up."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def lines(self) -> list[tuple[int, str, float]]:
        if not self.path.exists():
            return []
        rows = [line.split() for line in self.path.read_text().splitlines() if line.strip()]
        return [(int(pid), event, float(t)) for pid, event, t in rows]

    def events(self, event: str, pid: int | None = None) -> list[float]:
        return [t for p, e, t in self.lines() if e == event and (pid is None or p == pid)]

    def runs(self) -> list[tuple[int, float, float]]:
        """(pid, start, end) of every probe run; a run still going (or killed) ends at infinity."""
        runs, open_runs = [], {}
        for pid, event, t in self.lines():
            if event == "start":
                open_runs[pid] = t
            elif event == "end":
                runs.append((pid, open_runs.pop(pid), t))
        return runs + [(pid, t, float("inf")) for pid, t in open_runs.items()]

    def all_runs_ended(self) -> bool:
        runs = self.runs()
        return bool(runs) and all(end != float("inf") for _, _, end in runs)

    def overlapping_runs(self) -> int:
        """Pairs of runs of different processes whose [start, end] intervals intersect."""
        runs = self.runs()
        return sum(1 for i, a in enumerate(runs) for b in runs[i + 1:]
                   if a[0] != b[0] and a[1] < b[2] and b[1] < a[2])


class Runner:
    """One scheduler process, forked from the caller."""

    def __init__(self, url: str, var_dir: Path, journal: Journal, steps: int, step_s: float,
                 lease_s: float) -> None:
        self.journal = journal
        self.proc = multiprocessing.get_context("fork").Process(
            target=serve, args=(url, str(var_dir), str(journal.path), steps, step_s, lease_s), daemon=True)
        self.proc.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def up(self) -> bool:
        return bool(self.journal.events("up", self.pid))

    def signal(self, sig: signal.Signals) -> None:
        os.kill(self.pid, sig)

    def stop(self) -> None:
        if self.proc.is_alive():
            self.signal(signal.SIGCONT)
            self.signal(signal.SIGKILL)
        self.proc.join(10)


def wait_for(predicate: Callable[[], object], deadline_s: float) -> bool:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@dataclass
class Pair:
    """Two runners: `first` started the probe, `second` is the other one."""

    first: Runner
    second: Runner
    journal: Journal

    def stop(self) -> None:
        self.first.stop()
        self.second.stop()


def two_runners(url: str, rt: Runtime, work_dir: Path, *, steps: int, step_s: float, lease_s: float) -> Pair:
    """Two runners, both up before the tenant exists: the probe becomes due for both at once and
    one of them starts it."""
    journal = Journal(work_dir / "journal")
    a = Runner(url, work_dir / "a", journal, steps, step_s, lease_s)
    b = Runner(url, work_dir / "b", journal, steps, step_s, lease_s)
    try:
        assert wait_for(lambda: a.up and b.up, 60), "the runners did not start"
        create_tenant(rt.db, SLUG, name="ACME")
        assert wait_for(lambda: journal.events("start"), 30), "the probe did not start"
    except BaseException:
        a.stop()
        b.stop()
        raise
    first = next(pid for pid, event, _ in journal.lines() if event == "start")
    return Pair(a, b, journal) if a.pid == first else Pair(b, a, journal)


def overlaps_with_fault(url: str, rt: Runtime, work_dir: Path, lease_s: float,
                        fault: Callable[[], None] | None = None,
                        before_stop: Callable[[], None] | None = None) -> int:
    """A 2.4 s probe run, `fault()` once it started, `before_stop()` once every run ended; the
    overlapping runs seen."""
    pair = two_runners(url, rt, work_dir, steps=3, step_s=0.8, lease_s=lease_s)
    try:
        if fault is not None:
            fault()
        assert wait_for(pair.journal.all_runs_ended, 60)
        time.sleep(0.6)  # three ticks of both after the run: a second run would start now
        assert wait_for(pair.journal.all_runs_ended, 60)
        if before_stop is not None:
            before_stop()
        return pair.journal.overlapping_runs()
    finally:
        pair.stop()


def freeze_outside_a_write(runner: Runner, rt: Runtime) -> None:
    """SIGSTOP `runner`, again until it is not frozen inside a write transaction: on SQLite that
    would hold the file's write lock and stop every process (on MariaDB `wait_timeout` ends the
    frozen connection and its transaction)."""
    files = [rt.db.central_url.database, parse_db_url(rt.db.tenant_url(SLUG)).database]
    for _ in range(100):
        runner.signal(signal.SIGSTOP)
        if not rt.db.central_url.drivername.startswith("sqlite"):
            return
        try:
            for name in files:
                conn = sqlite3.connect(name, timeout=0.2, isolation_level=None)
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    conn.execute("ROLLBACK")
                finally:
                    conn.close()
            return
        except sqlite3.OperationalError:
            runner.signal(signal.SIGCONT)
            time.sleep(0.05)
    raise AssertionError("the runner was always frozen inside a write")


@dataclass
class FrozenOutcome:
    overlapping_runs: int
    late_commits: int  # chunks the deposed runner committed after its successor's first one
    statuses: list[str]  # job_runs, in order


def frozen_past_the_lease(url: str, rt: Runtime, work_dir: Path, lease_s: float = 2) -> FrozenOutcome:
    """Freeze the runner mid-run until the other process has taken the job over and committed,
    then thaw it and let everything end."""
    pair = two_runners(url, rt, work_dir, steps=6, step_s=0.3, lease_s=lease_s)
    first, second = pair.first, pair.second
    try:
        assert wait_for(lambda: pair.journal.events("commit", first.pid), 30)
        freeze_outside_a_write(first, rt)
        try:
            assert wait_for(lambda: pair.journal.events("commit", second.pid), 40), "no take-over"
        finally:
            first.signal(signal.SIGCONT)
        assert wait_for(pair.journal.all_runs_ended, 60)
    finally:
        pair.stop()
    with rt.db.tenant(SLUG) as conn:
        rows = conn.execute(select(PROBE.c.id, PROBE.c.runner).order_by(PROBE.c.id)).all()
    took_over = min(i for i, runner in rows if runner == second.pid)
    with rt.db.central() as conn:
        statuses = conn.execute(select(c.job_runs.c.status).order_by(c.job_runs.c.id)).scalars().all()
    return FrozenOutcome(pair.journal.overlapping_runs(),
                         sum(1 for i, runner in rows if runner == first.pid and i > took_over), statuses)


def run_statuses(rt: Runtime) -> list[str]:
    with rt.db.central() as conn:
        return conn.execute(select(c.job_runs.c.status).order_by(c.job_runs.c.id)).scalars().all()


def killed_mid_run(url: str, rt: Runtime, work_dir: Path, deadline_s: float = 40) -> list[str]:
    """SIGKILL the runner mid-run; the job_runs statuses once the first is no longer `running`
    and another run started (or at the deadline)."""
    pair = two_runners(url, rt, work_dir, steps=200, step_s=0.1, lease_s=2)
    try:
        assert wait_for(lambda: pair.journal.events("commit", pair.first.pid), 30)
        pair.first.signal(signal.SIGKILL)
        wait_for(lambda: run_statuses(rt)[:1] != ["running"] and len(run_statuses(rt)) >= 2, deadline_s)
        return run_statuses(rt)
    finally:
        pair.stop()
