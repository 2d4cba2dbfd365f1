"""One recorded job run, and which runs are due.

Every run, by the scheduler, `manage.py jobs run` or "Ejecutar ahora", goes through
`run_recorded`: it takes the run's lock (jobs/run_lock.py; JobBusy while another process runs
the same job for the same tenant), writes a `job_runs` row when it starts (status `running`,
the lock's holder) and completes it when it ends: `ok`, `error` (the job raised), or
`abandoned` (the run lost its lock, or the process was shutting down; what it committed is
valid and the next run goes on from there). A run whose process died stays `running` until
`reap_abandoned` sees that its holder's lease is gone and marks it `abandoned` too.

A job is due for a tenant when its last `ok` or `error` run started at least `every` ago: the
tick reads this table, not APScheduler's memory, so runs missed while Passenger had no process
alive are caught up on the next tick, and an abandoned run does not count as done.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select, update

from core import schema_central as c
from core.commit_guard import guarded
from core.errors import JobBusy, RunLost
from core.runtime import Runtime
from core.tenants import list_tenants
from jobs.registry import get_job, job_registry
from jobs.run_lock import RunLock

log = logging.getLogger(__name__)
FINISHED = ("ok", "error")  # the statuses that make a job not due until `every` has passed
REAPED = "the process running it stopped before it ended (its lease ran out)"


@dataclass
class RunResult:
    job: str
    tenant: str
    status: str  # ok, error, abandoned; `busy` (nothing ran, no row) from run_by_hand only
    rows: int
    error: str | None = None


def _now(rt: Runtime) -> datetime:
    return rt.clock.now_utc().replace(tzinfo=None)


def run_recorded(rt: Runtime, name: str, slug: str, lock: RunLock | None = None) -> RunResult:
    """Run job `name` for one tenant under its lock (taken here unless the caller holds it;
    JobBusy if another process has it) and record it in `job_runs`; job errors are recorded,
    not raised. The lock is released at the end either way."""
    spec = get_job(name)
    if lock is None:
        lock = RunLock(rt, name, slug)
        lock.acquire()
    try:
        with rt.db.central() as conn:
            run_id = conn.execute(insert(c.job_runs).values(
                job_id=name, tenant_slug=slug, started_at=_now(rt), status="running", holder=lock.holder,
            )).inserted_primary_key[0]
        try:
            with guarded(lock):
                rows = int(spec.func(rt, slug))
            result = RunResult(name, slug, "ok", rows)
        except RunLost as exc:  # chunks committed so far stand; the holder of the lock goes on
            log.warning("job %s for tenant %s stopped: %s", name, slug, exc.message)
            result = RunResult(name, slug, "abandoned", 0, f"RunLost: {exc.message}"[:500])
        except Exception as exc:  # a failing job is recorded and the next one still runs
            log.exception("job %s failed for tenant %s", name, slug)
            message = (str(exc).splitlines() or [type(exc).__name__])[0][:500]
            result = RunResult(name, slug, "error", 0, f"{type(exc).__name__}: {message}")
        with rt.db.central() as conn:
            conn.execute(update(c.job_runs).where(c.job_runs.c.id == run_id).values(
                finished_at=_now(rt), status=result.status, row_count=result.rows, detail=result.error,
            ))
    finally:
        lock.release()
    return result


def reap_abandoned(rt: Runtime) -> int:
    """Mark `abandoned` the `running` runs whose holder no longer holds a live lease (its
    process died, or was frozen past its lease and replaced); returns how many."""
    r, lk = c.job_runs.c, c.job_locks.c
    live = select(lk.name).where(lk.holder == r.holder, lk.expires_at >= _now(rt)).exists()
    with rt.db.central() as conn:
        reaped = conn.execute(update(c.job_runs).where(r.status == "running", ~live)
                              .values(status="abandoned", detail=REAPED)).rowcount
    if reaped:
        log.warning("jobs: %d run(s) marked abandoned (their process stopped)", reaped)
    return reaped


def last_runs(rt: Runtime) -> dict[tuple[str, str], datetime]:
    """(job, tenant) → start of its last finished (`ok` or `error`) run."""
    r = c.job_runs.c
    with rt.db.central() as conn:
        rows = conn.execute(
            select(r.job_id, r.tenant_slug, func.max(r.started_at))
            .where(r.finished_at.is_not(None), r.status.in_(FINISHED))
            .group_by(r.job_id, r.tenant_slug)
        ).all()
    return {(job_id, slug): started for job_id, slug, started in rows}


def due_runs(rt: Runtime) -> list[tuple[str, str]]:
    """(job, tenant) pairs whose interval has passed since their last finished run."""
    now, last = _now(rt), last_runs(rt)
    slugs = [tenant.slug for tenant in list_tenants(rt.db)]
    return [
        (spec.name, slug) for spec in job_registry for slug in slugs
        if (spec.name, slug) not in last or last[(spec.name, slug)] + spec.every <= now
    ]


def is_due(rt: Runtime, name: str, slug: str) -> bool:
    """Whether one job is still due for one tenant (checked again once its lock is held: a run
    another process just finished makes it not due)."""
    r = c.job_runs.c
    with rt.db.central() as conn:
        last = conn.execute(select(func.max(r.started_at)).where(
            r.job_id == name, r.tenant_slug == slug, r.finished_at.is_not(None), r.status.in_(FINISHED),
        )).scalar()
    return last is None or last + get_job(name).every <= _now(rt)


def run_due(rt: Runtime) -> list[RunResult]:
    """Run every due job once that no other process is running (tests; the scheduler's tick
    does the same while it leads)."""
    results = []
    for name, slug in due_runs(rt):
        try:
            results.append(run_recorded(rt, name, slug))
        except JobBusy as exc:
            log.info("jobs: skipped: %s", exc.english())
    return results


def run_by_hand(rt: Runtime, name: str, slug: str | None = None) -> list[RunResult]:
    """`manage.py jobs run NAME [--tenant T]`: the same recorded run under the same lock, for
    one or every tenant; a tenant whose run is in progress elsewhere gets status `busy`."""
    get_job(name)
    slugs = [slug] if slug else [tenant.slug for tenant in list_tenants(rt.db)]
    results = []
    for s in slugs:
        try:
            results.append(run_recorded(rt, name, s))
        except JobBusy as exc:
            results.append(RunResult(name, s, "busy", 0, exc.english()))
    return results
