"""A web process's job scheduler with one slow job, for the single-runner fault tests.

`serve(...)` runs in a process forked from the test, so it starts without importing anything
again (the modules it needs are imported here, before the fork). It builds its own runtime on
the installation, keeps only the `probe` job in the registry (due once an hour per tenant, so
it starts once the test creates a tenant) and starts the scheduler as a web process does.
The probe sleeps STEP_S, then commits one `probe_chunks` row (its pid and step) in the tenant
database, STEPS times, each commit fenced like a real job's chunk. Every process appends
`<pid> up|start|commit|end <monotonic s>` to the journal (CLOCK_MONOTONIC is one clock for
every process of the machine), so the test can count runs that overlapped and commits that
came late.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta

from sqlalchemy import Column, Integer, MetaData, Table, insert

from core.runtime import build_runtime
from core.settings import load_settings
from jobs.registry import JOBS, job
from jobs.run_guard import checkpoint
from jobs.scheduler import ensure_started

PROBE = Table("probe_chunks", MetaData(), Column("id", Integer, primary_key=True, autoincrement=True),
              Column("runner", Integer, nullable=False), Column("step", Integer, nullable=False))


def note(journal: str, event: str) -> None:
    """One journal line, appended in one write (O_APPEND keeps lines of processes whole)."""
    fd = os.open(journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, f"{os.getpid()} {event} {time.monotonic():.6f}\n".encode())
    finally:
        os.close(fd)


def serve(central: str, var_dir: str, journal: str, steps: int, step_s: float, lease_s: float) -> None:
    """The child's whole life: a scheduler that ticks every 0.2 s until the test kills it."""
    settings = load_settings(env="test", central_db_url=central, var_dir=var_dir, jobs="on",
                             jobs_tick_s=0.2, jobs_lease_s=lease_s, secret_key="s" * 40, jwt_secret="j" * 40)
    rt = build_runtime(settings)
    JOBS.clear()

    @job("probe", every=timedelta(hours=1), description="slow test job")
    def probe(rt, slug: str) -> int:  # noqa: ANN001
        with rt.db.tenant(slug) as conn:
            PROBE.create(conn, checkfirst=True)
        note(journal, "start")
        try:
            for step in range(steps):
                time.sleep(step_s)
                with rt.db.tenant(slug) as conn:
                    conn.execute(insert(PROBE).values(runner=os.getpid(), step=step))
                    checkpoint(conn)
                note(journal, "commit")
        finally:
            note(journal, "end")
        return steps

    ensure_started(rt)
    note(journal, "up")
    while True:
        time.sleep(1)
