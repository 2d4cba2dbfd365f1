"""Exactly one runner per job and tenant for the whole run, against real processes and faults.

Two scheduler processes (tests/job_runner_process.py, forked) share one installation and a slow job;
the fault is real: MariaDB's `wait_timeout` or a `KILL` drops the leader's idle lock
connection, a run outlives the SQLite lease, the runner is frozen (SIGSTOP) past its lease or
killed (SIGKILL) mid-run. Overlapping runs are counted from the processes' journal.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from core import migrations
from core import schema_central as c
from core.db import parse_db_url
from core.runtime import Runtime, build_runtime
from core.settings import load_settings
from ingest.tenants import create_tenant, ensure_database
from tests.helpers import frozen_test_clock
from tests.job_runner_process import PROBE, serve


def _install(url: str, var_dir: Path) -> Runtime:
    """A central database without tenants (so nothing is due yet); the test's runtime on it."""
    settings = load_settings(env="test", central_db_url=url, var_dir=var_dir, secret_key="s" * 40,
                             jwt_secret="j" * 40)
    ensure_database(url)
    rt = build_runtime(settings, clock=frozen_test_clock())
    migrations.upgrade_central(rt.db.central_engine)
    return rt


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def installation(request: pytest.FixtureRequest, tmp_path: Path):
    """(central URL, runtime) on SQLite or on this test's private mariadbd."""
    if request.param == "mysql":
        url = request.getfixturevalue("private_mysql").url("camet")
    else:
        url = f"sqlite:///{tmp_path / 'central.db'}"
    rt = _install(url, tmp_path / "setup")
    yield url, rt
    rt.close()


class Runner:
    """One scheduler process, forked from the test (tests/job_runner_process.py)."""

    def __init__(self, url: str, var_dir: Path, journal: Path, steps: int, step_s: float,
                 lease_s: float) -> None:
        self.journal = journal
        self.proc = multiprocessing.get_context("fork").Process(
            target=serve, args=(url, str(var_dir), str(journal), steps, step_s, lease_s), daemon=True)
        self.proc.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def up(self) -> bool:
        return bool(_events(self.journal, "up", self.pid))

    def signal(self, sig: signal.Signals) -> None:
        os.kill(self.pid, sig)

    def stop(self) -> None:
        if self.proc.is_alive():
            self.signal(signal.SIGCONT)
            self.signal(signal.SIGKILL)
        self.proc.join(10)


def _journal(path: Path) -> list[tuple[int, str, float]]:
    if not path.exists():
        return []
    rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
    return [(int(pid), event, float(t)) for pid, event, t in rows]


def _runs(path: Path) -> list[tuple[int, float, float]]:
    """(pid, start, end) of every probe run; a run still going (or killed) ends at infinity."""
    runs, open_runs = [], {}
    for pid, event, t in _journal(path):
        if event == "start":
            open_runs[pid] = t
        elif event == "end":
            runs.append((pid, open_runs.pop(pid), t))
    runs += [(pid, t, float("inf")) for pid, t in open_runs.items()]
    return runs


def overlapping_runs(path: Path) -> int:
    """Pairs of runs of different processes whose [start, end] intervals intersect."""
    runs = _runs(path)
    return sum(1 for i, a in enumerate(runs) for b in runs[i + 1:]
               if a[0] != b[0] and a[1] < b[2] and b[1] < a[2])


def _wait(predicate, deadline_s: float) -> bool:  # noqa: ANN001
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _events(path: Path, event: str, pid: int | None = None, other_than: int | None = None) -> list[float]:
    return [t for p, e, t in _journal(path)
            if e == event and (pid is None or p == pid) and (other_than is None or p != other_than)]


def _all_runs_ended(path: Path) -> bool:
    runs = _runs(path)
    return bool(runs) and all(end != float("inf") for _, _, end in runs)


def _two_runners(url: str, rt: Runtime, tmp_path: Path, journal: Path, *, steps: int, step_s: float,
                 lease_s: float) -> tuple[Runner, Runner]:
    """Two scheduler processes, both up before the tenant exists: the probe becomes due for both
    at once, one of them starts it. Returns (the one that runs it, the other)."""
    a = Runner(url, tmp_path / "a", journal, steps, step_s, lease_s)
    b = Runner(url, tmp_path / "b", journal, steps, step_s, lease_s)
    try:
        assert _wait(lambda: a.up and b.up, 60), "the runners did not start"
        create_tenant(rt.db, "acme", name="ACME")
        assert _wait(lambda: _events(journal, "start"), 30), "the probe did not start"
    except BaseException:
        a.stop()
        b.stop()
        raise
    first = next(pid for pid, event, _ in _journal(journal) if event == "start")
    return (a, b) if a.pid == first else (b, a)


def _overlaps_with_fault(url: str, rt: Runtime, tmp_path: Path, lease_s: float, fault=None) -> int:  # noqa: ANN001
    """Two runners, a 2.4 s probe run, `fault(runner)` once it started; the overlapping runs."""
    journal = tmp_path / "journal"
    first, second = _two_runners(url, rt, tmp_path, journal, steps=3, step_s=0.8, lease_s=lease_s)
    try:
        if fault is not None:
            fault()
        assert _wait(lambda: _all_runs_ended(journal), 60)
        time.sleep(0.6)  # three ticks of both after the run: a second run would start now
        assert _wait(lambda: _all_runs_ended(journal), 60)
        return overlapping_runs(journal)
    finally:
        first.stop()
        second.stop()


@pytest.mark.mariadbd_args("--wait-timeout=1")
def test_a_run_longer_than_wait_timeout_is_not_started_twice(private_mysql, tmp_path):
    url = private_mysql.url("camet")
    rt = _install(url, tmp_path / "setup")
    try:
        assert _overlaps_with_fault(url, rt, tmp_path, lease_s=6) == 0
    finally:
        rt.close()


def test_killing_the_lock_connection_does_not_start_the_run_twice(private_mysql, tmp_path):
    url = private_mysql.url("camet")
    rt = _install(url, tmp_path / "setup")

    def kill_lock_connection() -> None:
        holder = private_mysql.execute("SELECT IS_USED_LOCK('camet-jobs:camet')")[0][0]
        assert holder is not None
        private_mysql.execute(f"KILL {int(holder)}")

    try:
        assert _overlaps_with_fault(url, rt, tmp_path, lease_s=6, fault=kill_lock_connection) == 0
    finally:
        rt.close()


def test_a_run_longer_than_the_sqlite_lease_is_not_started_twice(tmp_path):
    url = f"sqlite:///{tmp_path / 'central.db'}"
    rt = _install(url, tmp_path / "setup")
    try:
        assert _overlaps_with_fault(url, rt, tmp_path, lease_s=1) == 0
    finally:
        rt.close()


def _freeze_outside_a_write(runner: Runner, rt: Runtime) -> None:
    """SIGSTOP `runner`, again until it is not frozen inside a write transaction: on SQLite that
    would hold the file's write lock and stop every process (on MariaDB `wait_timeout` ends the
    frozen connection and its transaction)."""
    files = [rt.db.central_url.database, parse_db_url(rt.db.tenant_url("acme")).database]
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


@pytest.mark.mariadbd_args("--wait-timeout=1")
def test_a_frozen_runner_past_its_lease_cannot_commit_late(installation, tmp_path):
    """SIGSTOP the runner mid-run until the other process has taken the job over and committed:
    once thawed, the deposed runner's next chunk commit is refused and its run is not `ok`."""
    url, rt = installation
    journal = tmp_path / "journal"
    first, second = _two_runners(url, rt, tmp_path, journal, steps=6, step_s=0.3, lease_s=2)
    try:
        assert _wait(lambda: _events(journal, "commit", first.pid), 30)
        _freeze_outside_a_write(first, rt)
        try:
            assert _wait(lambda: _events(journal, "commit", second.pid), 40), "no take-over"
        finally:
            first.signal(signal.SIGCONT)
        assert _wait(lambda: _all_runs_ended(journal), 60)
    finally:
        first.stop()
        second.stop()
    with rt.db.tenant("acme") as conn:
        rows = conn.execute(select(PROBE.c.id, PROBE.c.runner).order_by(PROBE.c.id)).all()
    took_over = min(i for i, runner in rows if runner == second.pid)
    late = [i for i, runner in rows if runner == first.pid and i > took_over]
    assert late == []
    with rt.db.central() as conn:
        statuses = conn.execute(select(c.job_runs.c.status).order_by(c.job_runs.c.id)).scalars().all()
    assert statuses[0] != "ok" and statuses[-1] == "ok"


@pytest.mark.mariadbd_args("--wait-timeout=1")
def test_a_killed_run_is_reaped_as_abandoned_and_the_job_runs_again(installation, tmp_path):
    url, rt = installation
    journal = tmp_path / "journal"
    first, second = _two_runners(url, rt, tmp_path, journal, steps=200, step_s=0.1, lease_s=2)

    def statuses() -> list[str]:
        with rt.db.central() as conn:
            return conn.execute(select(c.job_runs.c.status).order_by(c.job_runs.c.id)).scalars().all()

    try:
        assert _wait(lambda: _events(journal, "commit", first.pid), 30)
        first.signal(signal.SIGKILL)
        assert _wait(lambda: statuses()[:1] == ["abandoned"] and len(statuses()) == 2, 40), statuses()
    finally:
        first.stop()
        second.stop()
