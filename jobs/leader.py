"""Which process runs the jobs: exactly one across all workers and servers of an installation.

MySQL/MariaDB: `GET_LOCK` taken on one dedicated connection (autocommit) and held for as long as
this process leads; the engines' NullPool closes every other connection, so this one is kept
apart. When the process dies the server drops the connection and the lock with it, and another
process takes it on its next tick. SQLite: a lease row in `job_locks` (holder, expires_at),
renewed on every tick; another process takes it over once it has expired.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import timedelta

from sqlalchemy import delete, insert, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from core.db import is_mysql
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
        database = rt.db.central_url.database or ""
        self._mysql_name = f"{LOCK_NAME}:{os.path.basename(database)}"[:64]

    def hold(self) -> bool:
        """True while this process leads (acquires, keeps or renews the lock)."""
        try:
            held = self._hold_mysql() if is_mysql(self.rt.db.central_url) else self._hold_lease()
        except SQLAlchemyError as exc:
            log.warning("job lock check failed: %s", str(exc).splitlines()[0])
            self._drop_connection()
            held = False
        if held != self.is_leader:
            log.info("jobs: %s %s the lead", self.holder, "takes" if held else "loses")
        self.is_leader = held
        return held

    def release(self) -> None:
        """Let another process lead (on close)."""
        try:
            if is_mysql(self.rt.db.central_url):
                if self._conn is not None:
                    self._conn.execute(text("SELECT RELEASE_LOCK(:n)"), {"n": self._mysql_name})
            elif self.is_leader:
                with self.rt.db.central() as conn:
                    conn.execute(delete(job_locks).where(job_locks.c.name == LOCK_NAME,
                                                         job_locks.c.holder == self.holder))
        except SQLAlchemyError:
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
