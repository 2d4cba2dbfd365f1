"""Exactly one runner per job and tenant for the whole run, against real processes and faults.

Two scheduler processes (tests/job_runners.py, forked) share one installation and a slow job;
the fault is real: MariaDB's `wait_timeout` or a `KILL` drops the leader's idle lock
connection, a run outlives the SQLite lease, the runner is frozen (SIGSTOP) past its lease or
killed (SIGKILL) mid-run. Overlapping runs are counted from the processes' journal.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from core import schema_central as c
from tests.helpers import frozen_test_clock
from tests.job_runners import frozen_past_the_lease, install, killed_mid_run, overlaps_with_fault


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def installation(request: pytest.FixtureRequest, tmp_path: Path):
    """(central URL, runtime) on SQLite or on this test's private mariadbd."""
    if request.param == "mysql":
        url = request.getfixturevalue("private_mysql").url("camet")
    else:
        url = f"sqlite:///{tmp_path / 'central.db'}"
    rt = install(url, tmp_path / "setup", frozen_test_clock())
    yield url, rt
    rt.close()


@pytest.fixture
def on_private_mysql(private_mysql, tmp_path: Path):
    url = private_mysql.url("camet")
    rt = install(url, tmp_path / "setup", frozen_test_clock())
    yield url, rt
    rt.close()


@pytest.mark.mariadbd_args("--wait-timeout=1")
def test_a_run_longer_than_wait_timeout_is_not_started_twice(on_private_mysql, private_mysql, tmp_path):
    """The leader's GET_LOCK connection idles for the whole run: its heartbeat keeps it (the
    same connection holds the lead afterwards) and the other process never runs the job."""
    url, rt = on_private_mysql
    holders = []

    def lock_holder() -> None:
        holders.append(private_mysql.execute("SELECT IS_USED_LOCK('camet-jobs:camet')")[0][0])

    assert overlaps_with_fault(url, rt, tmp_path, lease_s=6, fault=lock_holder, before_stop=lock_holder) == 0
    assert holders[0] is not None and holders[0] == holders[1]


def test_killing_the_lock_connection_does_not_start_the_run_twice(on_private_mysql, private_mysql, tmp_path):
    url, rt = on_private_mysql

    def kill_lock_connection() -> None:
        holder = private_mysql.execute("SELECT IS_USED_LOCK('camet-jobs:camet')")[0][0]
        assert holder is not None
        private_mysql.execute(f"KILL {int(holder)}")

    assert overlaps_with_fault(url, rt, tmp_path, lease_s=6, fault=kill_lock_connection) == 0


def test_a_run_longer_than_the_sqlite_lease_is_not_started_twice(tmp_path):
    """The run and the lead outlive the 1 s lease: heartbeats renew both (the same process leads
    afterwards) and the other process never runs the job."""
    url = f"sqlite:///{tmp_path / 'central.db'}"
    rt = install(url, tmp_path / "setup", frozen_test_clock())
    holders = []

    def lead_holder() -> None:
        with rt.db.central() as conn:
            holders.append(conn.execute(select(c.job_locks.c.holder)
                                        .where(c.job_locks.c.name == "camet-jobs")).scalar())

    try:
        overlaps = overlaps_with_fault(url, rt, tmp_path, 1, fault=lead_holder, before_stop=lead_holder)
        assert overlaps == 0
        assert holders[0] is not None and holders[0] == holders[1]
    finally:
        rt.close()


@pytest.mark.mariadbd_args("--wait-timeout=1")
def test_a_frozen_runner_past_its_lease_cannot_commit_late(installation, tmp_path):
    """SIGSTOP the runner mid-run until the other process has taken the job over and committed:
    once thawed, the deposed runner's next chunk commit is refused and its run is not `ok`."""
    url, rt = installation
    outcome = frozen_past_the_lease(url, rt, tmp_path)
    assert outcome.late_commits == 0
    # Reaped as abandoned, or, when its connection died while frozen (wait_timeout 1 s), failed
    # on thaw: either way not `ok`, and the take-over's run is.
    assert outcome.statuses[0] in ("abandoned", "error") and outcome.statuses[-1] == "ok", outcome.statuses


@pytest.mark.mariadbd_args("--wait-timeout=1")
def test_a_killed_run_is_reaped_as_abandoned_and_the_job_runs_again(installation, tmp_path):
    url, rt = installation
    statuses = killed_mid_run(url, rt, tmp_path)
    assert statuses[0] == "abandoned" and len(statuses) == 2, statuses
