"""The in-app job scheduler: an APScheduler tick, started by the first request of a process.

a2wsgi runs no lifespan and Passenger forks and kills workers at will, so nothing starts at
import: `ensure_started(rt)` (a FastAPI dependency calls it) builds the scheduler once per
Runtime, i.e. once per process. Every `CAMET_JOBS_TICK_S` the tick checks leadership
(jobs/leader.py) and, while leading, runs whatever `job_runs` says is due (jobs/runs.py), so
runs missed while no process was alive are caught up; APScheduler's own misfire handling is
not relied on (apscheduler#696). `close()` stops the thread and releases the lead.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC

from apscheduler.schedulers.background import BackgroundScheduler

from core.clock import SYSTEM_CLOCK
from core.runtime import Runtime
from jobs.leader import Leadership
from jobs.runs import RunResult, due_runs, run_recorded

log = logging.getLogger(__name__)
_start_lock = threading.Lock()


class JobScheduler:
    """One per process: a background thread that ticks, leads or waits, and runs due jobs."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.leader = Leadership(rt)
        self._scheduler = BackgroundScheduler(
            timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None})

    def start(self) -> None:
        """Tick now, then every CAMET_JOBS_TICK_S seconds."""
        self._scheduler.add_job(self.tick, "interval", seconds=self.rt.settings.jobs_tick_s, id="camet-tick",
                                next_run_time=SYSTEM_CLOCK.now_utc())
        self._scheduler.start()

    def tick(self) -> list[RunResult]:
        """Run the due jobs while this process leads (renewing the lead before each run); a
        failure is logged, never raised."""
        results: list[RunResult] = []
        try:
            if not self.leader.hold():
                return results
            for name, slug in due_runs(self.rt):
                if not self.leader.hold():
                    break
                results.append(run_recorded(self.rt, name, slug))
        except Exception:  # the thread must survive a database outage
            log.exception("job tick failed")
        return results

    def close(self) -> None:
        """Stop ticking and let another process lead."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
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
