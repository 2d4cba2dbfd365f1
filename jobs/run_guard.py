"""The guard of the job run in progress: a job calls `checkpoint(conn)` right before each chunk
commit, and the commit only happens while the run still holds its lock.

`run_recorded` (jobs/runs.py) installs the run's lock as this thread's guard for the length of
the run. `checkpoint(conn)`:
  1. refuses once the heartbeat found the lease lost, or the process is shutting down;
  2. renews the lease, which proves nobody took it over (a take-over changes the holder);
  3. inside the chunk's own transaction on the tenant database, moves `job_fences` to the
     run's fencing token, or refuses when a newer token has already committed there.
Step 3 closes the gap between 2 and the commit (a process frozen in between, then thawed after
another took over): the storage itself rejects the older token. A refusal raises `RunLost`,
the chunk's transaction rolls back, and the run ends as `abandoned`. Without a guard (code
called outside a recorded run, e.g. a test or `rollups rebuild`) `checkpoint` does nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from core.errors import CametError
from core.schema_tenant import job_fences


class RunLost(CametError):
    """The run no longer holds its lock: it must stop before committing anything more."""

    code = "run_lost"


class Guard(Protocol):
    def check(self, conn: Connection | None = None) -> None: ...


_current: ContextVar[Guard | None] = ContextVar("camet_run_guard", default=None)


def checkpoint(conn: Connection | None = None) -> None:
    """Call right before a chunk commit (inside its transaction, `conn`): raises RunLost when
    the run in progress lost its lock. Without `conn` (DDL, which commits by itself) only the
    lock is proven."""
    guard = _current.get()
    if guard is not None:
        guard.check(conn)


@contextmanager
def guarded(guard: Guard) -> Iterator[None]:
    """Make `guard` the one `checkpoint` consults, for this thread, until the block ends."""
    token = _current.set(guard)
    try:
        yield
    finally:
        _current.reset(token)


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
