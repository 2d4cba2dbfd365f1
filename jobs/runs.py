"""One recorded job run, and which runs are due.

Every run, by the scheduler or by `manage.py jobs run`, goes through `run_recorded`: a
`job_runs` row is written when it starts (status `running`) and completed when it ends (`ok` or
`error`, finished_at, row_count, the error's first line). A job is due for a tenant when its
last finished run started at least `every` ago: the tick reads this table, not APScheduler's
memory, so runs missed while Passenger had no process alive are caught up on the next tick.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select, update

from core import schema_central as c
from core.runtime import Runtime
from ingest.tenants import list_tenants
from jobs.registry import JOBS, get_job

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    job: str
    tenant: str
    status: str
    rows: int
    error: str | None = None


def _now(rt: Runtime) -> datetime:
    return rt.clock.now_utc().replace(tzinfo=None)


def run_recorded(rt: Runtime, name: str, slug: str) -> RunResult:
    """Run job `name` for one tenant and record it in `job_runs`; errors are recorded, not raised."""
    spec = get_job(name)
    with rt.db.central() as conn:
        run_id = conn.execute(insert(c.job_runs).values(
            job_id=name, tenant_slug=slug, started_at=_now(rt), status="running",
        )).inserted_primary_key[0]
    try:
        rows = int(spec.func(rt, slug))
        result = RunResult(name, slug, "ok", rows)
    except Exception as exc:  # a failing job is recorded and the next one still runs
        log.exception("job %s failed for tenant %s", name, slug)
        message = (str(exc).splitlines() or [type(exc).__name__])[0][:500]
        result = RunResult(name, slug, "error", 0, f"{type(exc).__name__}: {message}")
    with rt.db.central() as conn:
        conn.execute(update(c.job_runs).where(c.job_runs.c.id == run_id).values(
            finished_at=_now(rt), status=result.status, row_count=result.rows, detail=result.error,
        ))
    return result


def last_runs(rt: Runtime) -> dict[tuple[str, str], datetime]:
    """(job, tenant) → start of its last finished run."""
    r = c.job_runs.c
    with rt.db.central() as conn:
        rows = conn.execute(
            select(r.job_id, r.tenant_slug, func.max(r.started_at))
            .where(r.finished_at.is_not(None))
            .group_by(r.job_id, r.tenant_slug)
        ).all()
    return {(job_id, slug): started for job_id, slug, started in rows}


def due_runs(rt: Runtime) -> list[tuple[str, str]]:
    """(job, tenant) pairs whose interval has passed since their last finished run."""
    now, last = _now(rt), last_runs(rt)
    slugs = [tenant.slug for tenant in list_tenants(rt.db)]
    return [
        (name, slug) for name, spec in sorted(JOBS.items()) for slug in slugs
        if (name, slug) not in last or last[(name, slug)] + spec.every <= now
    ]


def run_due(rt: Runtime) -> list[RunResult]:
    """Run every due job once (the scheduler's tick, while this process leads)."""
    return [run_recorded(rt, name, slug) for name, slug in due_runs(rt)]


def run_by_hand(rt: Runtime, name: str, slug: str | None = None) -> list[RunResult]:
    """`manage.py jobs run NAME [--tenant T]`: the same recorded run, for one or every tenant."""
    get_job(name)
    slugs = [slug] if slug else [tenant.slug for tenant in list_tenants(rt.db)]
    return [run_recorded(rt, name, s) for s in slugs]
