"""Admin API of the operations page: job runs, "run now", partitions, broken rows, freshness.

GET  /admin/operations          one document with everything the page shows for the tenant
POST /admin/jobs/{name}/run     run a registered job now for the caller's tenant, through the
                                same recorded run as `manage.py jobs run NAME` (a `job_runs`
                                row), in a background thread: 202 at once, audited; 409 while
                                the job runs for the tenant (its run lock is taken here)
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from app_fastapi.admin.catalog import listed_rows
from app_fastapi.api_times import PlantLocalTime, UtcTime
from app_fastapi.background import background
from app_fastapi.deps import AdminPrincipal, RuntimeDep, client_ip
from core import schema_central as c
from core.ops_status import freshness, partition_status
from identity.audit import record
from identity.users import tenant_id
from jobs.registry import get_job, job_registry
from jobs.run_lock import RunLock
from jobs.runs import run_recorded

router = APIRouter(prefix="/admin", tags=["admin"])
JobName = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9_-]+$",
                              description="a registered job (GET /admin/operations lists them)")]


class JobOut(BaseModel):
    name: str
    every_s: float
    description: str


class JobRunOut(BaseModel):
    id: int
    job: str
    started_at: UtcTime
    finished_at: UtcTime | None
    duration_s: float | None
    status: str = Field(description="running, ok, error or abandoned (its process stopped or lost the "
                                    "job's lock before the end; what it committed stands)")
    rows: int | None
    error: str | None


class PartitionOut(BaseModel):
    name: str
    bound: str
    rows: int = Field(description="InnoDB's estimate")


class LinePartitionsOut(BaseModel):
    line_code: str
    table: str
    partitions: list[PartitionOut]


class BrokenRowOut(BaseModel):
    kind: str = Field(description="filter or widget")
    id: int
    name: str
    class_name: str
    error: str


class FreshnessOut(BaseModel):
    line_code: str
    line_name: str
    last_detection: PlantLocalTime | None
    age_s: float | None


class OperationsOut(BaseModel):
    jobs: list[JobOut]
    runs: list[JobRunOut]
    partitions: list[LinePartitionsOut] | None = Field(description="null: the database has none (SQLite)")
    broken_rows: list[BrokenRowOut]
    freshness: list[FreshnessOut]


class RunStarted(BaseModel):
    job: str
    tenant: str
    message: str


@router.get("/operations", response_model=OperationsOut)
def operations(principal: AdminPrincipal, rt: RuntimeDep, request: Request,
               runs: int = Query(50, ge=1, le=500, description="how many recent runs")) -> OperationsOut:
    """Everything the operations page shows, for the caller's tenant."""
    r = c.job_runs.c
    with rt.db.central() as conn:
        rows = conn.execute(select(c.job_runs).where(r.tenant_slug == principal.tenant)
                            .order_by(r.id.desc()).limit(runs)).all()
    with rt.db.tenant(principal.tenant) as conn:
        meta = rt.meta.get(principal.tenant, conn=conn)
        parts = partition_status(conn, meta)
        fresh = freshness(conn, meta, rt.clock)
    kinds = request.app.state.catalog_kinds  # the catalog routes' kinds, set by the engine's factory
    broken = [BrokenRowOut(kind="filter", id=f.id, name=f.label, class_name=f.class_name, error=f.error)
              for f in listed_rows(kinds["filter"], rt, principal.tenant) if f.error]
    broken += [BrokenRowOut(kind="widget", id=w.id, name=w.title, class_name=w.class_name, error=w.error)
               for w in listed_rows(kinds["widget"], rt, principal.tenant) if w.error]
    return OperationsOut(
        jobs=[JobOut(name=j.name, every_s=j.every.total_seconds(), description=j.description)
              for j in job_registry],
        runs=[JobRunOut(id=x.id, job=x.job_id, started_at=x.started_at, finished_at=x.finished_at,
                        duration_s=_duration(x.started_at, x.finished_at), status=x.status,
                        rows=x.row_count, error=x.detail) for x in rows],
        partitions=None if parts is None else [
            LinePartitionsOut(line_code=p.line_code, table=p.table,
                              partitions=[PartitionOut(**vars(i)) for i in p.partitions]) for p in parts],
        broken_rows=broken,
        freshness=[FreshnessOut(**vars(f)) for f in fresh],
    )


def _duration(started: datetime, finished: datetime | None) -> float | None:
    return None if finished is None else max((finished - started) / timedelta(seconds=1), 0.0)


@router.post("/jobs/{name}/run", response_model=RunStarted, status_code=202,
             responses={409: {"description": "the job is already running for this tenant"}})
def run_now(name: JobName, principal: AdminPrincipal, rt: RuntimeDep, request: Request) -> RunStarted:
    """Start the job for this tenant now (404 for an unknown job, 409 while it runs); its run
    appears in the runs. The run's lock is taken before answering, so a conflict is told here."""
    get_job(name)
    lock = RunLock(rt, name, principal.tenant)
    lock.acquire()
    try:
        with rt.db.central() as conn:
            record(conn, action="admin_edit", tenant_id=tenant_id(conn, principal.tenant),
                   user_id=principal.user_id, username=principal.username, ip=client_ip(request),
                   detail={"what": "job_run", "op": "run_now", "id": None, "before": None,
                           "after": {"job": name}})
        future = background(rt).submit(run_recorded, rt, name, principal.tenant, lock)
    except BaseException:
        lock.release()
        raise
    future.add_done_callback(lambda _: lock.release())  # also when shutdown cancels it unstarted
    return RunStarted(job=name, tenant=principal.tenant, message=f"«{name}» se está ejecutando")
