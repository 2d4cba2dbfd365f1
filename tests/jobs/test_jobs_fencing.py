"""Run locks on the real databases: take-over after expiry, fencing tokens refused in the chunk's
own transaction, hand runs and "Ejecutar ahora" while a job runs, reaping, shutdown mid-run."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, insert, select, text

from core import migrations
from core import schema_central as c
from core import schema_tenant as t
from core.commit_guard import checkpoint, guarded
from core.db import is_mysql
from core.errors import JobBusy, RunLost
from core.partition_upkeep import maintain_tenant
from core.partitions import existing_partitions
from core.runtime import build_runtime
from core.tenants import create_tenant
from jobs.registry import job, job_registry
from jobs.run_guard import fence
from jobs.run_lock import RunLock
from jobs.runs import due_runs, reap_abandoned, run_by_hand, run_recorded
from jobs.scheduler import JobScheduler
from manage import main
from rollups.job import roll_tenant
from stops.job import analyse_tenant
from tests.stops_support import SLUG, build_stops_tenant, stop_rows


def _expire(runtime, clock) -> None:
    clock.advance(timedelta(seconds=runtime.settings.jobs_lease_s + 2))


def _deposed(runtime, clock, job_id: str) -> tuple[RunLock, RunLock]:
    """(a lock whose lease ran out and was taken over, the new holder's lock that committed a
    chunk); the caller releases both."""
    old = RunLock(runtime, job_id, SLUG)
    old.acquire()
    _expire(runtime, clock)
    new = RunLock(runtime, job_id, SLUG)
    new.acquire()
    with runtime.db.tenant(SLUG) as conn:
        new.check(conn)
    return old, new


def test_a_lease_is_exclusive_until_it_expires_and_each_take_over_raises_the_token(runtime, clock):
    create_tenant(runtime.db, SLUG, name="ACME")
    first = RunLock(runtime, "gap-analysis", SLUG)
    first.acquire()
    with pytest.raises(JobBusy) as busy:
        RunLock(runtime, "gap-analysis", SLUG).acquire()
    assert busy.value.holder == first.holder and busy.value.status_code == 409
    other_job = RunLock(runtime, "rollups", SLUG)
    other_job.acquire()  # another job is independent
    other_job.release()
    assert first.renew()
    _expire(runtime, clock)
    assert first.renew()  # expired but nobody took it: the unchanged token proves it is still held
    _expire(runtime, clock)
    second = RunLock(runtime, "gap-analysis", SLUG)
    second.acquire()
    assert second.token > first.token
    assert not first.renew() and first.lost
    second.release()
    third = RunLock(runtime, "gap-analysis", SLUG)
    third.acquire()  # a released lease is free at once, and its token still grows
    assert third.token > second.token
    for lock in (first, second, third):
        lock.release()


def test_a_deposed_holder_cannot_commit_and_its_chunk_rolls_back(runtime, clock, backend):
    create_tenant(runtime.db, SLUG, name="ACME")
    old, new = _deposed(runtime, clock, "gap-analysis")
    try:
        with pytest.raises(RunLost), runtime.db.tenant(SLUG) as conn:
            conn.execute(insert(t.closed_days).values(day=clock.now_utc().date(), name="x"))
            old.check(conn)
        with pytest.raises(RunLost), runtime.db.tenant(SLUG) as conn:  # the fence alone refuses it too
            conn.execute(insert(t.closed_days).values(day=clock.now_utc().date(), name="x"))
            fence(conn, "gap-analysis", old.token)
        with runtime.db.tenant(SLUG) as conn:
            assert conn.execute(select(func.count()).select_from(t.closed_days)).scalar() == 0
            new.check(conn)  # the holder still commits
    finally:
        old.release()
        new.release()


def test_the_jobs_of_a_deposed_run_write_nothing(runtime, clock):
    build_stops_tenant(runtime, clock)
    for job_id, work in (("gap-analysis", analyse_tenant), ("rollups", roll_tenant)):
        old, new = _deposed(runtime, clock, job_id)
        try:
            with pytest.raises(RunLost), guarded(old):
                work(runtime, SLUG)
        finally:
            old.release()
            new.release()
    assert stop_rows(runtime) == []
    with runtime.db.tenant(SLUG) as conn:
        assert conn.execute(select(func.count()).select_from(t.rollups)).scalar() == 0
        assert conn.execute(select(t.stops_state.c.next_date)).scalars().all() in ([], [None])
    analyse_tenant(runtime, SLUG)  # outside a recorded run nothing is guarded
    assert stop_rows(runtime)


def test_partition_maintenance_of_a_deposed_run_changes_nothing(runtime, clock, plant_tenant):
    table = t.detections_table_name(min(runtime.meta.get(plant_tenant).lines))
    with runtime.db.tenant(plant_tenant) as conn:
        before = existing_partitions(conn, table) if is_mysql(conn.engine.url) else None
    old, new = _deposed(runtime, clock, "partitions")
    try:
        with guarded(old):
            if before is None:
                assert maintain_tenant(runtime, plant_tenant) == {}  # SQLite: nothing to do
            else:
                with pytest.raises(RunLost):
                    maintain_tenant(runtime, plant_tenant)
    finally:
        old.release()
        new.release()
    with runtime.db.tenant(plant_tenant) as conn:
        assert (existing_partitions(conn, table) if before is not None else None) == before


def test_a_hand_run_refuses_while_another_process_runs_the_job(runtime, settings, clock, capsys):
    create_tenant(runtime.db, SLUG, name="ACME")
    other = build_runtime(settings, clock=clock)  # the scheduler's process
    held = RunLock(other, "gap-analysis", SLUG)
    held.acquire()
    try:
        [result] = run_by_hand(runtime, "gap-analysis", SLUG)
        assert result.status == "busy" and held.holder in result.error
        with pytest.raises(SystemExit) as exc:
            main(["jobs", "run", "gap-analysis", "--tenant", SLUG], runtime=runtime)
        assert exc.value.code != 0 and "already running for tenant acme" in capsys.readouterr().err
        with runtime.db.central() as conn:
            assert conn.execute(select(func.count()).select_from(c.job_runs)).scalar() == 0
    finally:
        held.release()
        other.close()
    assert [r.status for r in run_by_hand(runtime, "gap-analysis", SLUG)] == ["ok"]


def test_run_now_answers_409_while_the_job_runs(auth_world, engine_app):
    rt = auth_world.runtime
    held = RunLock(rt, "gap-analysis", "acme")
    held.acquire()
    try:
        api = TestClient(engine_app, headers=auth_world.auth("ana"))
        r = api.post("/api/v1/admin/jobs/gap-analysis/run")
        assert r.status_code == 409 and "ya se está ejecutando" in r.json()["message"]
        with rt.db.central() as conn:
            assert conn.execute(select(func.count()).select_from(c.job_runs)).scalar() == 0
    finally:
        held.release()
    r = api.post("/api/v1/admin/jobs/gap-analysis/run")
    assert r.status_code == 202


def test_reaped_runs_show_as_abandoned_and_the_job_is_due_again(runtime, clock):
    create_tenant(runtime.db, SLUG, name="ACME")
    assert [r.status for r in run_by_hand(runtime, "gap-analysis", SLUG)] == ["ok"]
    clock.advance(timedelta(minutes=5))
    live = RunLock(runtime, "rollups", SLUG)
    live.acquire()
    started = clock.now_utc().replace(tzinfo=None)
    with runtime.db.central() as conn:  # a run whose process was killed, and one still going
        for holder, job_id in (("gone:1:dead", "gap-analysis"), (live.holder, "rollups")):
            conn.execute(insert(c.job_runs).values(job_id=job_id, tenant_slug=SLUG, started_at=started,
                                                   status="running", holder=holder))
    try:
        assert reap_abandoned(runtime) == 1
        with runtime.db.central() as conn:
            rows = dict(conn.execute(select(c.job_runs.c.job_id, c.job_runs.c.status)
                                     .where(c.job_runs.c.started_at == started)).all())
        assert rows == {"gap-analysis": "abandoned", "rollups": "running"}
        assert ("gap-analysis", SLUG) in due_runs(runtime)  # the abandoned run did not count as done
    finally:
        live.release()
    clock.advance(timedelta(seconds=1))
    assert reap_abandoned(runtime) == 1  # its lease released without an end: abandoned too


def test_the_operations_page_labels_abandoned_runs(auth_world, flask_app):
    from tests.app_flask.test_admin_ops_pages import login

    rt = auth_world.runtime
    with rt.db.central() as conn:
        conn.execute(insert(c.job_runs).values(job_id="gap-analysis", tenant_slug="acme",
                                               started_at=rt.clock.now_utc().replace(tzinfo=None),
                                               status="running", holder="gone:1:dead"))
    reap_abandoned(rt)
    page = login(flask_app, auth_world, "ana").get("/admin/operaciones").get_data(as_text=True)
    assert 'data-status="abandoned"' in page and "abandonado" in page and 'id="ops-abandoned"' in page


def test_run_now_page_says_the_job_is_running(auth_world, flask_app):
    from tests.app_flask.test_admin_ops_pages import login

    rt = auth_world.runtime
    client = login(flask_app, auth_world, "ana")
    held = RunLock(rt, "gap-analysis", "acme")
    held.acquire()
    try:
        form = {"csrf_token": client.csrf, "trabajo": "gap-analysis"}
        r = client.post("/admin/operaciones/ejecutar", data=form)
        assert r.status_code == 302
        page = client.get(r.location).get_data(as_text=True)
        assert "ya se está ejecutando" in page
    finally:
        held.release()


@pytest.fixture
def blocking_job():
    """A registered job that runs until its checkpoint refuses (tells the test when it started)."""
    started = threading.Event()

    def blocking(rt, slug: str) -> int:  # noqa: ANN001
        started.set()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            checkpoint()
            time.sleep(0.02)
        return 0

    saved = job_registry.entries()
    for spec in saved:
        job_registry.unregister(spec)
    job("blocking", every=timedelta(hours=1))(blocking)
    yield started
    job_registry.unregister(job_registry.get("blocking"))
    for spec in saved:
        job_registry.register(spec)


def _camet_threads() -> list[str]:
    return [th.name for th in threading.enumerate() if th.name.startswith("camet-") and th.is_alive()
            and "background" not in th.name]


def test_close_stops_the_run_in_progress_and_its_heartbeats(runtime, blocking_job):
    create_tenant(runtime.db, SLUG, name="ACME")
    scheduler = JobScheduler(runtime)
    scheduler.start()
    try:
        assert blocking_job.wait(30)
        assert _camet_threads()
    finally:
        scheduler.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (_camet_threads() or _status(runtime) == "running"):
        time.sleep(0.05)
    assert _status(runtime) == "abandoned" and _camet_threads() == []
    assert ("blocking", SLUG) in due_runs(runtime)  # it did not finish: due again at once
    assert all(th.daemon for th in threading.enumerate() if th.name.startswith("camet-"))


def _status(runtime) -> str | None:
    with runtime.db.central() as conn:
        return conn.execute(text("SELECT status FROM job_runs WHERE job_id = 'blocking'")).scalar()


def test_a_run_takes_the_lock_itself_and_frees_it(runtime):
    create_tenant(runtime.db, SLUG, name="ACME")
    result = run_recorded(runtime, "gap-analysis", SLUG)
    assert result.status == "ok"
    lock = RunLock(runtime, "gap-analysis", SLUG)
    lock.acquire()  # free again right after the run
    lock.release()
    with runtime.db.central() as conn:
        assert conn.execute(select(c.job_runs.c.holder)).scalar()


def test_an_older_installation_gets_tokens_holders_and_fences(runtime):
    create_tenant(runtime.db, SLUG, name="ACME")
    tenant = runtime.db.tenant_engine(SLUG)
    fencing = len(migrations.CENTRAL)  # the last central step
    with runtime.db.central_engine.begin() as conn:
        conn.execute(text("ALTER TABLE job_locks DROP COLUMN token"))
        conn.execute(text("ALTER TABLE job_runs DROP COLUMN holder"))
        conn.execute(text("INSERT INTO job_locks (name, holder, expires_at) VALUES ('camet-jobs', 'old', :at)"
                          ), {"at": datetime(2020, 1, 1)})
        conn.execute(delete(c.schema_version).where(c.schema_version.c.version >= fencing))
    with tenant.begin() as conn:
        conn.execute(text("DROP TABLE job_fences"))
        conn.execute(delete(t.schema_version).where(t.schema_version.c.version == len(migrations.TENANT)))
    assert migrations.upgrade_central(runtime.db.central_engine) == [fencing]
    assert migrations.upgrade_tenant(tenant) == [len(migrations.TENANT)]
    with runtime.db.central() as conn:
        assert conn.execute(select(c.job_locks.c.token)).scalar() == 0
    assert [r.status for r in run_by_hand(runtime, "gap-analysis", SLUG)] == ["ok"]
