"""Which process ticks the jobs: one across all workers and servers of an installation.

MySQL/MariaDB: `GET_LOCK` taken on one dedicated connection (autocommit) and held for as long as
this process leads; the engines' NullPool closes every other connection, so this one is kept
apart. When the process dies the server drops the connection and the lock with it, and another
process takes it on its next tick. The scheduler's heartbeat pings the connection every
`heartbeat_s` (a third of the lease or of the server's `wait_timeout`, whichever is shorter),
so a long run does not leave it idle until the server drops it. SQLite: a lease row in
`job_locks` (holder, expires_at), renewed on every tick and by the same heartbeat; another
process takes it over once it has expired.

Leading only decides who starts due runs. Exclusion of a run itself is the run's own lock
(jobs/run_lock.py): a process that loses the lead mid-run finishes that run, guarded by it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import timedelta

from sqlalchemy import delete, insert, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from core.db import is_mysql
from core.errors import CametError
from core.runtime import Runtime
from core.schema_central import job_locks

log = logging.getLogger(__name__)
LOCK_NAME = "camet-jobs"


class Leadership:
    """Try to lead on every tick (`hold`); give it up on `release`."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:128]
        self.is_leader = False
        self._conn: Connection | None = None
        self._mutex = threading.Lock()  # the tick and the heartbeat share the lock connection
        self._wait_timeout_s: float | None = None  # the lock connection's, once it is open
        database = rt.db.central_url.database or ""
        self._mysql_name = f"{LOCK_NAME}:{os.path.basename(database)}"[:64]

    def hold(self) -> bool:
        """True while this process leads (acquires, keeps or renews the lock)."""
        with self._mutex:
            try:
                held = self._hold_mysql() if is_mysql(self.rt.db.central_url) else self._hold_lease()
            except (SQLAlchemyError, CametError) as exc:
                log.warning("job lock check failed: %s", str(exc).splitlines()[0])
                self._drop_connection()
                held = False
            if held != self.is_leader:
                log.info("jobs: %s %s the lead", self.holder, "takes" if held else "loses")
            self.is_leader = held
            return held

    def heartbeat_s(self) -> float:
        """How often a leader renews its lease or pings its lock connection."""
        every = self.rt.settings.jobs_lease_s / 3
        if self._wait_timeout_s:
            every = min(every, self._wait_timeout_s / 3)
        return max(every, 0.1)

    def release(self) -> None:
        """Let another process lead (on close)."""
        with self._mutex:
            try:
                if is_mysql(self.rt.db.central_url):
                    if self._conn is not None:
                        self._conn.execute(text("SELECT RELEASE_LOCK(:n)"), {"n": self._mysql_name})
                elif self.is_leader:
                    with self.rt.db.central() as conn:
                        conn.execute(delete(job_locks).where(job_locks.c.name == LOCK_NAME,
                                                             job_locks.c.holder == self.holder))
            except (SQLAlchemyError, CametError):
                pass
            self._drop_connection()
            self.is_leader = False

    def _hold_mysql(self) -> bool:
        if self._conn is not None:
            mine = self._conn.execute(text("SELECT IS_USED_LOCK(:n) = CONNECTION_ID()"),
                                      {"n": self._mysql_name}).scalar()
            if mine:
                return True
            self._drop_connection()
        conn = self.rt.db.central_engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        if conn.execute(text("SELECT GET_LOCK(:n, 0)"), {"n": self._mysql_name}).scalar() == 1:
            self._conn = conn
            self._wait_timeout_s = float(conn.execute(text("SELECT @@session.wait_timeout")).scalar() or 0)
            return True
        conn.close()
        return False

    def _hold_lease(self) -> bool:
        now = self.rt.clock.now_utc().replace(tzinfo=None)
        expires = now + timedelta(seconds=self.rt.settings.jobs_lease_s)
        c = job_locks.c
        with self.rt.db.central() as conn:
            taken = conn.execute(
                update(job_locks)
                .where(c.name == LOCK_NAME, (c.holder == self.holder) | (c.expires_at < now))
                .values(holder=self.holder, expires_at=expires)
            ).rowcount
        if taken == 1:
            return True
        try:
            with self.rt.db.central() as conn:
                conn.execute(insert(job_locks).values(name=LOCK_NAME, holder=self.holder, expires_at=expires))
            return True
        except IntegrityError:
            return False

    def _drop_connection(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except SQLAlchemyError:
                pass
            self._conn = None
