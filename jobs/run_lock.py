"""The lock of one job run: a lease per (job, tenant) in `job_locks`, with a fencing token.

Every run, by the scheduler, `manage.py jobs run` or "Ejecutar ahora", takes it first, so a
job runs at most once at a time per tenant across every process and host. It is a lease on
both backends: a row (holder, expires_at, token) that the holder renews from a heartbeat every
lease/3 (`CAMET_JOBS_LEASE_S`), so a run may last any time, and that another process may take
over only once it has expired. Nothing is held open between renewals, so MariaDB's
`wait_timeout` or a `KILL` cannot take it away; a holder that died is replaced within one lease.

Every take-over sets a larger `token` (never reused: the previous one + 1, or the clock in
milliseconds if larger, so a central database restored from an old backup still moves
forward). The run's chunk commits carry it (jobs/run_guard.py), so a holder that was deposed,
e.g. frozen past its lease, cannot commit after the new one.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from core.errors import CametError, JobBusy, RunLost
from core.runtime import Runtime
from core.schema_central import job_locks
from jobs.heartbeat import Heartbeat
from jobs.run_guard import fence

log = logging.getLogger(__name__)
RELEASED = datetime(2000, 1, 1)  # expires_at of a released lease: free at once, row and token kept


def holder_id() -> str:
    """A holder that names this host and process and is never reused."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:128]


def lock_name(job: str, slug: str) -> str:
    """`run:<job>:<tenant>`, or a digest of it when longer than the column."""
    name = f"run:{job}:{slug}"
    return name if len(name) <= 64 else "run:" + hashlib.sha256(name.encode()).hexdigest()[:60]


def next_token(previous: int, now: datetime) -> int:
    """Larger than every token given before, also after the central database was restored."""
    return max(previous + 1, int(now.replace(tzinfo=UTC).timestamp() * 1000))


def _ceil_second(moment: datetime) -> datetime:
    """MariaDB's DATETIME drops fractions: round a lease's end up, never shorten it."""
    whole = moment.replace(microsecond=0)
    return whole if whole == moment else whole + timedelta(seconds=1)


class RunLock:
    """The lease of one (job, tenant) run: `acquire`, `check` before each chunk commit, `release`."""

    def __init__(self, rt: Runtime, job: str, slug: str) -> None:
        self.rt, self.job, self.slug = rt, job, slug
        self.name = lock_name(job, slug)
        self.holder = holder_id()
        self.token = 0
        self.held = False
        self.lost: str | None = None
        self._stopping: str | None = None
        self._valid_until = 0.0  # time.monotonic() until which the last renewal surely holds
        self._mutex = threading.Lock()
        self._heartbeat = Heartbeat(f"camet-{self.name}", self._beat, lambda: rt.settings.jobs_lease_s / 3)

    def _now(self) -> datetime:
        return self.rt.clock.now_utc().replace(tzinfo=None)

    def _expiry(self, now: datetime) -> datetime:
        return _ceil_second(now + timedelta(seconds=self.rt.settings.jobs_lease_s))

    def acquire(self) -> None:
        """Take the lease if it is free or expired and start the heartbeat; JobBusy if not."""
        c = job_locks.c
        started, now = time.monotonic(), self._now()
        with self.rt.db.central() as conn:
            row = conn.execute(select(c.holder, c.expires_at, c.token).where(c.name == self.name)).first()
        if row is not None and row.expires_at >= now:
            raise JobBusy(self.job, self.slug, row.holder, row.expires_at)
        token = next_token(row.token if row is not None else 0, now)
        values = {"holder": self.holder, "expires_at": self._expiry(now), "token": token}
        try:
            with self.rt.db.central() as conn:
                if row is None:
                    conn.execute(insert(job_locks).values(name=self.name, **values))
                    taken = 1
                else:  # compare-and-set: nobody renewed or took it since the read
                    taken = conn.execute(update(job_locks).values(**values).where(
                        c.name == self.name, c.token == row.token, c.expires_at < now)).rowcount
        except IntegrityError:  # another process inserted it first
            taken = 0
        if taken != 1:
            self._raise_busy()
        self.token, self.held, self._valid_until = token, True, started + self.rt.settings.jobs_lease_s
        self._heartbeat.start()
        log.info("jobs: %s takes %s (token %d)", self.holder, self.name, token)

    def _raise_busy(self) -> None:
        c = job_locks.c
        with self.rt.db.central() as conn:
            row = conn.execute(select(c.holder, c.expires_at).where(c.name == self.name)).first()
        raise JobBusy(self.job, self.slug, row.holder if row else "?", row.expires_at if row else self._now())

    def renew(self) -> bool:
        """Extend the lease; False (and `lost` set) when another holder has taken it over.
        Renewing an expired lease nobody took is fine: the unchanged token proves it."""
        with self._mutex:
            if self.lost is not None:
                return False
            c = job_locks.c
            started, now = time.monotonic(), self._now()
            with self.rt.db.central() as conn:
                kept = conn.execute(update(job_locks).where(
                    c.name == self.name, c.holder == self.holder, c.token == self.token,
                ).values(expires_at=self._expiry(now))).rowcount
            if kept == 1:
                self._valid_until = started + self.rt.settings.jobs_lease_s
                return True
            self._lose("another process took the job over (its lease had expired)")
            return False

    def _beat(self) -> bool:
        try:
            return self.renew()
        except (SQLAlchemyError, CametError) as exc:
            log.warning("jobs: renewing %s failed: %s", self.name, str(exc).splitlines()[0])
            if time.monotonic() >= self._valid_until:
                self._lose("the lease could not be renewed before it ran out")
                return False
            return True

    def _lose(self, reason: str) -> None:
        if self.lost is None:
            self.lost = reason
            log.warning("jobs: %s lost %s: %s", self.holder, self.name, reason)

    def stop_soon(self, reason: str) -> None:
        """Make the run stop at its next checkpoint (the process is shutting down)."""
        self._stopping = reason

    def check(self, conn: Connection | None = None) -> None:
        """The run's checkpoint (jobs/run_guard.py): raise RunLost unless the lease is still
        this run's; with `conn`, also fence that transaction with the token."""
        if self._stopping is not None:
            raise RunLost(self._stopping)
        if not self.renew():
            raise RunLost(self.lost or "the job's lease was lost")
        if conn is not None:
            fence(conn, self.job, self.token)

    def release(self) -> None:
        """Stop the heartbeat and free the lease (row and token stay); safe to call twice."""
        self._heartbeat.stop()
        if not self.held:
            return
        self.held = False
        c = job_locks.c
        try:
            with self.rt.db.central() as conn:
                conn.execute(update(job_locks).where(c.name == self.name, c.holder == self.holder,
                                                     c.token == self.token).values(expires_at=RELEASED))
        except (SQLAlchemyError, CametError) as exc:  # it expires by itself
            log.warning("jobs: releasing %s failed: %s", self.name, str(exc).splitlines()[0])
