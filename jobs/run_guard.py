"""The fencing of a job run's commits: a run's chunk commits only while the run holds its lock.

`run_recorded` (jobs/runs.py) installs the run's lock as this thread's commit guard
(core/commit_guard.py) for the length of the run. The domains call `checkpoint(conn)` right
before each chunk commit, which asks the lock to:
  1. refuse once the heartbeat found the lease lost, or the process is shutting down;
  2. renew the lease, which proves nobody took it over (a take-over changes the holder);
  3. inside the chunk's own transaction on the tenant database, move `job_fences` to the
     run's fencing token (`fence`), or refuse when a newer token has already committed there.
Step 3 closes the gap between 2 and the commit (a process frozen in between, then thawed after
another took over): the storage itself rejects the older token. A refusal raises `RunLost`,
the chunk's transaction rolls back, and the run ends as `abandoned`.
"""

from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from core.errors import RunLost
from core.schema_tenant import job_fences


def fence(conn: Connection, job_id: str, token: int) -> None:
    """In the caller's transaction: record `token` as the newest that committed for `job_id`,
    or raise RunLost when a newer one already has (the row lock orders concurrent commits)."""
    f = job_fences.c
    moved = conn.execute(update(job_fences).where(f.job_id == job_id, f.token <= token)
                         .values(token=token)).rowcount
    if moved:
        return
    newest = conn.execute(select(f.token).where(f.job_id == job_id).with_for_update()).scalar()  # latest
    if newest is None:
        conn.execute(insert(job_fences).values(job_id=job_id, token=token))
        return
    raise RunLost(f"a newer run of {job_id!r} (token {newest}) has committed; "
                  f"this run's token {token} is stale")
