"""The commit guard: work that commits in chunks calls `checkpoint(conn)` right before each
commit, and the commit only happens while whoever started the work still allows it.

The domains (rollups/, stops/, the partition upkeep) call `checkpoint`; they do not know who
guards them. A recorded job run (jobs/runs.py) installs its run lock as this thread's guard with
`guarded`, so a run that lost its lock raises `RunLost` at its next checkpoint and its chunk's
transaction rolls back (jobs/run_guard.py explains the fencing). Without a guard (a test, or
`manage.py rollups rebuild`) `checkpoint` does nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol

from sqlalchemy.engine import Connection


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
