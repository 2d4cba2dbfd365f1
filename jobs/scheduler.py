"""The in-app job scheduler: an APScheduler tick, started by the first request of a process.

a2wsgi runs no lifespan and Passenger forks and kills workers at will, so nothing starts at
import: `ensure_started(rt)` (a FastAPI dependency calls it) builds the scheduler once per
Runtime, i.e. once per process. Every `CAMET_JOBS_TICK_S` the tick checks leadership
(jobs/leader.py) and, while leading, reaps runs whose process died and starts whatever
`job_runs` says is due (jobs/runs.py), each under its own run lock (jobs/run_lock.py): a job
that another process is running is skipped. Runs missed while no process was alive are caught
up; APScheduler's own misfire handling is not relied on (apscheduler#696). A heartbeat thread
keeps the lead alive while a long run blocks the tick. `close()` stops the tick and the
heartbeat, makes a run in progress stop at its next chunk, and releases the lead.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC

from apscheduler.schedulers.background import BackgroundScheduler

from core.clock import SYSTEM_CLOCK
from core.errors import JobBusy
from core.runtime import Runtime
from jobs.heartbeat import Heartbeat
from jobs.leader import Leadership
from jobs.run_lock import RunLock
from jobs.runs import RunResult, due_runs, is_due, reap_abandoned, run_recorded

log = logging.getLogger(__name__)
_start_lock = threading.Lock()


class JobScheduler:
    """One per process: a background thread that ticks, leads or waits, and runs due jobs."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.leader = Leadership(rt)
        self._scheduler = BackgroundScheduler(
            timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None})
        self._heartbeat = Heartbeat("camet-jobs-lead", self._keep_lead, self.leader.heartbeat_s)
        self._running: RunLock | None = None
        self._closed = False

    def start(self) -> None:
        """Tick now, then every CAMET_JOBS_TICK_S seconds; keep the lead alive in between."""
        self._scheduler.add_job(self.tick, "interval", seconds=self.rt.settings.jobs_tick_s, id="camet-tick",
                                next_run_time=SYSTEM_CLOCK.now_utc())
        self._scheduler.start()
        self._heartbeat.start()

    def _keep_lead(self) -> bool:
        if self.leader.is_leader:
            self.leader.hold()
        return True

    def _lead(self) -> bool:
        was = self.leader.is_leader
        held = self.leader.hold()
        if held and not was:
            self._heartbeat.wake()  # its interval may be shorter now (the server's wait_timeout)
        return held

    def tick(self) -> list[RunResult]:
        """Run the due jobs while this process leads (renewing the lead before each run), each
        under its run lock; a failure is logged, never raised."""
        results: list[RunResult] = []
        try:
            if self._closed or not self._lead():
                return results
            reap_abandoned(self.rt)
            for name, slug in due_runs(self.rt):
                if self._closed or not self._lead():
                    break
                result = self._run(name, slug)
                if result is not None:
                    results.append(result)
        except Exception:  # the thread must survive a database outage
            log.exception("job tick failed")
        return results

    def _run(self, name: str, slug: str) -> RunResult | None:
        lock = RunLock(self.rt, name, slug)
        try:
            lock.acquire()
        except JobBusy as exc:  # a hand run, or a run a previous leader still has
            log.info("jobs: skipped: %s", exc.english())
            return None
        try:
            due = is_due(self.rt, name, slug)  # another process may have finished it meanwhile
        except Exception:
            lock.release()
            raise
        if not due:
            lock.release()
            return None
        self._running = lock
        if self._closed:  # close() came between the check above and here
            lock.stop_soon("the process is shutting down")
        try:
            return run_recorded(self.rt, name, slug, lock)
        finally:
            self._running = None

    def close(self) -> None:
        """Stop ticking, stop a run in progress at its next chunk, and let another process lead."""
        self._closed = True
        running = self._running
        if running is not None:
            running.stop_soon("the process is shutting down")
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        self._heartbeat.stop()
        self.leader.release()


def ensure_started(rt: Runtime) -> JobScheduler | None:
    """The process's scheduler, started on first call when CAMET_JOBS allows it."""
    if not rt.settings.jobs_enabled:
        return None
    if rt.scheduler is None:
        with _start_lock:
            if rt.scheduler is None:
                scheduler = JobScheduler(rt)
                scheduler.start()
                rt.scheduler = scheduler
    return rt.scheduler  # type: ignore[return-value]
