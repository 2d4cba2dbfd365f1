"""Scheduling: due runs from job_runs (catch-up), one leader across processes, lease takeover."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta

from sqlalchemy import select

from core import schema_central as c
from core.settings import PROJECT_ROOT
from core.tenants import create_tenant
from jobs.leader import Leadership
from jobs.runs import due_runs, run_due


def test_due_runs_come_from_job_runs_and_missed_runs_are_caught_up(runtime, clock):
    create_tenant(runtime.db, "acme", name="ACME")
    assert due_runs(runtime) == [("gap-analysis", "acme"), ("partitions", "acme"), ("rollups", "acme")]
    assert [r.status for r in run_due(runtime)] == ["ok", "ok", "ok"]
    assert due_runs(runtime) == []
    clock.advance(timedelta(minutes=5))
    assert due_runs(runtime) == [("gap-analysis", "acme"), ("rollups", "acme")]
    clock.advance(timedelta(days=2))  # the process was gone for two days: one run of each catches up
    assert [r.job for r in run_due(runtime)] == ["gap-analysis", "partitions", "rollups"]
    with runtime.db.central() as conn:
        runs = conn.execute(select(c.job_runs.c.status, c.job_runs.c.finished_at)).all()
    assert len(runs) == 6 and all(status == "ok" and done is not None for status, done in runs)


def test_one_leader_at_a_time_and_takeover(runtime, clock, backend):
    first, second = Leadership(runtime), Leadership(runtime)
    assert first.hold() and not second.hold()
    assert first.hold() and not second.hold()  # renewing keeps the lead
    if backend == "mysql":
        first._drop_connection()  # the leader's connection dies with its process
    else:
        clock.advance(timedelta(seconds=runtime.settings.jobs_lease_s + 1))  # its lease runs out
    assert second.hold() and not first.hold()
    second.release()
    assert first.hold()
    first.release()


def _spawn(url: str, var_dir: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    return subprocess.Popen([sys.executable, "-m", "tests.scheduler_process", url, var_dir], cwd=PROJECT_ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)


class _Watch:
    """Collects a child's 'leader'/'follower' lines in a thread."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.lines: list[str] = []
        threading.Thread(target=self._read, args=(proc,), daemon=True).start()

    def _read(self, proc: subprocess.Popen) -> None:
        for line in proc.stdout:
            self.lines.append(line.strip())

    def wait_for(self, word: str, deadline_s: float) -> bool:
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            if self.lines and self.lines[-1] == word:
                return True
            time.sleep(0.1)
        return False


def test_two_processes_one_leader_and_the_other_takes_over_when_it_dies(runtime, tmp_path):
    url = runtime.settings.resolved_central_db_url()
    a = _spawn(url, str(tmp_path / "a"))
    b = None
    try:
        wa = _Watch(a)
        assert wa.wait_for("leader", 60)
        b = _spawn(url, str(tmp_path / "b"))
        wb = _Watch(b)
        assert wb.wait_for("follower", 60)
        seen = len(wb.lines)
        time.sleep(1.5)  # several ticks of both: the follower stays a follower
        assert "leader" not in wb.lines[seen - 1:] and wa.lines[-1] == "leader"
        a.kill()
        a.wait()
        assert wb.wait_for("leader", 2 + 30)  # lease (2 s) + slack for a loaded machine
    finally:
        for proc in (a, b):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()


def test_a_tick_runs_due_jobs_only_while_leading(runtime, clock):
    from jobs.scheduler import JobScheduler

    create_tenant(runtime.db, "acme", name="ACME")
    other = Leadership(runtime)
    assert other.hold()
    scheduler = JobScheduler(runtime)  # not started: ticks are called by hand
    assert scheduler.tick() == []
    other.release()
    assert [(r.job, r.status) for r in scheduler.tick()] == [
        ("gap-analysis", "ok"), ("partitions", "ok"), ("rollups", "ok")]
    assert scheduler.tick() == []
    scheduler.close()
