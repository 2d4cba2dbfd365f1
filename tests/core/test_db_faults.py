"""A frozen, killed, locked or missing database never freezes the site and never leaks its name.

Real parts only: a private `mariadbd` per test that the test freezes (SIGSTOP), kills (SIGKILL)
and restarts, SQLite files that are locked by another process or taken away, and the product
served by uvicorn (the engine) or waitress with 4 threads (the Passenger-style single app).
Waits are short (tests/db_faults_support.SHORT_WAITS), so each test takes seconds.
"""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pymysql
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from app_fastapi.main import create_app as create_engine
from core.db_budget import waiting_up_to
from core.db_errors import unavailable_cause
from core.errors import DatabaseUnavailable
from core.runtime import ProcessRuntime
from core.schema_tenant import detections_table_name
from query.builder import build_query
from query.columns import source_columns_for
from query.readers import ReadContext, automatic_readers, read_with_fallback
from query.readers.deadline import dashboard_wait
from tests.browser_utils import csrf_from
from tests.db_faults_support import DEMO_PASSWORD, installation
from tests.servers import asgi_server, free_port, wsgi_server
from wsgi import build_application

# Each test builds its installation on its own server: no flush per commit makes that ~25 %
# faster and changes nothing these tests look at (no test counts rows after a kill).
pytestmark = pytest.mark.mariadbd_args("--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0")

SPANISH_503 = "La base de datos no responde"
RUN = "/api/v1/dashboard/run"


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def inst(request, tmp_path):
    """The demo installation on SQLite files, or on a private MariaDB server."""
    server = request.getfixturevalue("private_mysql") if request.param == "mysql" else None
    marker = request.node.get_closest_marker("settings")
    with installation(request.param, tmp_path, server, **(marker.kwargs if marker else {})) as built:
        yield built


@pytest.fixture
def mysql_inst(request, tmp_path, private_mysql):
    """The demo installation on a private MariaDB server the test may freeze and kill."""
    marker = request.node.get_closest_marker("settings")
    with installation("mysql", tmp_path, private_mysql, **(marker.kwargs if marker else {})) as built:
        yield built


def wait_for_lock_wait(server, work) -> None:  # noqa: ANN001
    """Return once a statement on `server` waits for a table lock (while `work` still runs)."""
    deadline = time.monotonic() + 5
    while not server.execute("SELECT COUNT(*) FROM information_schema.PROCESSLIST "
                             "WHERE STATE LIKE 'Waiting for table metadata lock'")[0][0]:
        assert time.monotonic() < deadline and not work.done(), "nothing ever waited for the lock"
        time.sleep(0.05)


def timed(call, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN201
    """(answer, seconds) of one HTTP call."""
    started = time.monotonic()
    answer = call(*args, **kwargs)
    return answer, time.monotonic() - started


def assert_spanish_503(answer: httpx.Response, inst) -> None:  # noqa: ANN001
    assert answer.status_code == 503, answer.text[:500]
    assert SPANISH_503 in answer.text, answer.text[:500]
    assert int(answer.headers["Retry-After"]) >= 1
    assert inst.leaks(answer.text) == [], answer.text[:500]


def no_tracebacks(caplog) -> list[str]:  # noqa: ANN001
    return [r.getMessage() for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]


# --- health -----------------------------------------------------------------------------------

@pytest.mark.mysql
def test_health_says_degraded_within_2s_while_the_database_is_frozen(mysql_inst):
    with asgi_server(create_engine(mysql_inst.runtime)) as base:
        assert httpx.get(base + "/api/v1/health").json() == {"status": "ok"}
        mysql_inst.server.freeze()
        try:
            answer, took = timed(httpx.get, base + "/api/v1/health", timeout=10)
            assert answer.status_code == 200 and answer.json() == {"status": "degraded"}
            assert took < 2.0, took
            again, took = timed(httpx.get, base + "/api/v1/health", timeout=10)
            assert again.json() == {"status": "degraded"} and took < 2.0, took
        finally:
            mysql_inst.server.thaw()
        deadline = time.monotonic() + 10
        while httpx.get(base + "/api/v1/health", timeout=10).json()["status"] != "ok":
            assert time.monotonic() < deadline, "health did not recover after the thaw"
            time.sleep(0.2)


# --- runs against a frozen or lost database ---------------------------------------------------

@pytest.mark.mysql
def test_a_run_while_the_database_is_frozen_is_a_spanish_503_within_seconds(mysql_inst):
    with asgi_server(create_engine(mysql_inst.runtime)) as base:
        auth = {"Authorization": f"Bearer {mysql_inst.api_token(base)}"}
        mysql_inst.server.freeze()
        try:
            first, took = timed(httpx.post, base + RUN, json={"filters": {}}, headers=auth, timeout=20)
            assert_spanish_503(first, mysql_inst)
            assert took < 5.0, took
            # Right after, the site knows: the next run fails at once instead of waiting again.
            second, took_again = timed(httpx.post, base + RUN, json={"filters": {}}, headers=auth, timeout=20)
            assert_spanish_503(second, mysql_inst)
            assert took_again < 0.5, took_again
        finally:
            mysql_inst.server.thaw()


@pytest.mark.mysql
@pytest.mark.settings(db_timeout_s=3.0, query_timeout_s=3.0, planner_path="rollup")
def test_a_database_killed_mid_run_gives_the_same_spanish_503(mysql_inst, caplog):
    """The run holds an open connection, waiting on a table another session has locked, when the
    server dies: the lost connection is the same 503 as a run started while it is down."""
    server = mysql_inst.server
    with asgi_server(create_engine(mysql_inst.runtime)) as base:
        auth = {"Authorization": f"Bearer {mysql_inst.api_token(base)}"}
        locker = pymysql.connect(host="127.0.0.1", port=server.port, user="root",
                                 database="camet_central_demo", read_timeout=10, write_timeout=10)
        try:
            locker.cursor().execute("LOCK TABLES rollups_state WRITE")
            with ThreadPoolExecutor(1) as pool:
                run = pool.submit(httpx.post, base + RUN, json={"filters": {}}, headers=auth, timeout=30)
                wait_for_lock_wait(server, run)
                caplog.clear()
                with caplog.at_level(logging.INFO):
                    server.kill()
                    lost = run.result()
            assert_spanish_503(lost, mysql_inst)
            assert no_tracebacks(caplog) == []
        finally:
            locker.close()
        started = httpx.post(base + RUN, json={"filters": {}}, headers=auth, timeout=30)
        assert_spanish_503(started, mysql_inst)
        assert started.json() == lost.json()
        server.start()
        deadline = time.monotonic() + 10
        while httpx.post(base + RUN, json={"filters": {}}, headers=auth, timeout=30).status_code != 200:
            assert time.monotonic() < deadline, "runs did not recover after the restart"
            time.sleep(0.2)


@pytest.mark.mysql
@pytest.mark.settings(db_timeout_s=3.0, query_timeout_s=3.0, planner_path="rollup")
def test_the_dashboard_page_shows_the_engines_spanish_503_when_the_database_dies_mid_run(mysql_inst):
    """The page server checked the session, then the engine lost the database during the run:
    the HTMX partial carries the engine's Spanish message, not "internal error"."""
    server = mysql_inst.server
    app = build_application(ProcessRuntime(lambda: mysql_inst.runtime))
    with wsgi_server(app, threads=4) as base, httpx.Client(base_url=base, timeout=30) as browser:
        form = browser.get("/login")
        logged = browser.post("/login", data={"csrf_token": csrf_from(form.text), "tenant": "demo",
                                              "username": "demo", "password": DEMO_PASSWORD})
        assert logged.status_code == 302
        page = browser.get("/")
        assert page.status_code == 200
        token = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
        locker = pymysql.connect(host="127.0.0.1", port=server.port, user="root",
                                 database="camet_central_demo", read_timeout=10, write_timeout=10)
        try:
            locker.cursor().execute("LOCK TABLES rollups_state WRITE")
            with ThreadPoolExecutor(1) as pool:
                run = pool.submit(browser.post, "/dashboard/apply", data={},
                                  headers={"HX-Request": "true", "X-CSRFToken": token})
                wait_for_lock_wait(server, run)
                server.kill()
                answer = run.result()
        finally:
            locker.close()
    assert answer.status_code == 503, answer.text[:500]
    assert SPANISH_503 in answer.text and "internal error" not in answer.text
    assert mysql_inst.leaks(answer.text) == []


# --- pages that need no database --------------------------------------------------------------

@pytest.mark.mysql
@pytest.mark.settings(db_timeout_s=10.0)
def test_pages_without_database_answer_while_frozen_runs_fill_every_thread(mysql_inst):
    """The Passenger-style app under waitress with 4 threads: 8 runs against a frozen database
    take every thread, and the login form, a static file and health still answer. A connect to
    a stopped server gives up after the connect timeout (1 s), not the request's wait (10 s):
    the server's greeting never comes."""
    app = build_application(ProcessRuntime(lambda: mysql_inst.runtime))
    with wsgi_server(app, threads=4) as base:
        auth = {"Authorization": f"Bearer {mysql_inst.api_token(base)}"}
        assert httpx.get(base + "/static/css/app.css").status_code == 200
        mysql_inst.server.freeze()
        try:
            with ThreadPoolExecutor(8) as pool:
                runs = [pool.submit(httpx.post, base + RUN, json={"filters": {}}, headers=auth, timeout=30)
                        for _ in range(8)]
                time.sleep(0.3)  # every page thread now waits on the database
                login, login_s = timed(httpx.get, base + "/login", timeout=15)
                static, static_s = timed(httpx.get, base + "/static/css/app.css", timeout=15)
                health, health_s = timed(httpx.get, base + "/api/v1/health", timeout=15)
                answers = [r.result() for r in runs]
        finally:
            mysql_inst.server.thaw()
    # Neither page waits for a database wait to run out (10 s here; before, 25-43 s behind the
    # runs): the bound is that wait, not a speed, so a busy machine does not fail the test.
    wait_s = mysql_inst.runtime.settings.db_timeout_s
    assert login.status_code == 200 and "csrf_token" in login.text and login_s < wait_s, login_s
    assert static.status_code == 200 and static_s < wait_s, static_s
    assert health.json() == {"status": "degraded"} and health_s < 2.0, health_s
    for answer in answers:
        assert_spanish_503(answer, mysql_inst)


# --- what a 503 says ---------------------------------------------------------------------------

def test_a_503_never_names_the_database(inst, caplog):
    """Token requests need no login: their 503 must not tell anyone the database's user, host,
    port, name or file; the operator finds the cause in the log, once, without a traceback."""
    app = build_application(ProcessRuntime(lambda: inst.runtime))
    with wsgi_server(app, threads=4) as base:
        form = httpx.get(base + "/login")
        cookies = form.cookies
        inst.break_database()
        with caplog.at_level(logging.INFO):
            caplog.clear()
            token = httpx.post(base + "/api/v1/auth/token", timeout=20,
                               json={"tenant": "demo", "username": "demo", "password": DEMO_PASSWORD})
            assert_spanish_503(token, inst)
            assert token.json()["error"] == "database_unavailable"
            page = httpx.post(base + "/login", cookies=cookies, timeout=20,
                              data={"csrf_token": csrf_from(form.text), "tenant": "demo", "username": "demo",
                                    "password": DEMO_PASSWORD})
            assert_spanish_503(page, inst)
        logged = "\n".join(r.getMessage() for r in caplog.records)
        assert "unable to open database file" in logged or "Can't connect" in logged, logged
        assert no_tracebacks(caplog) == []


def test_a_locked_sqlite_database_is_a_spanish_503_within_seconds(tmp_path):
    """Another process holds the write lock of the central database: a token request (it writes
    the audit log) waits the request's database wait, then answers 503 in Spanish."""
    with installation("sqlite", tmp_path, None) as inst:
        holder = subprocess.Popen(  # noqa: S603 - fixed argv
            [sys.executable, "-c", "import sqlite3, sys, time\n"
             f"c = sqlite3.connect({str(inst.db_dir / 'central.db')!r}, isolation_level=None)\n"
             "c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); time.sleep(60)"],
            stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout.readline().strip() == "locked"
            with asgi_server(create_engine(inst.runtime)) as base:
                answer, took = timed(httpx.post, base + "/api/v1/auth/token", timeout=30,
                                     json={"tenant": "demo", "username": "demo", "password": DEMO_PASSWORD})
            assert_spanish_503(answer, inst)
            assert took < 5.0, took
        finally:
            holder.kill()
            holder.wait()


# --- every driver path waits a bounded time ---------------------------------------------------

INSTALLED = {r.name: r for r in automatic_readers("mysql")}


@pytest.mark.mysql
@pytest.mark.parametrize("reader", [
    pytest.param(name, marks=pytest.mark.skipif(name not in INSTALLED, reason=f"{name} not installed"))
    for name in ("pymysql", "mysqlclient")])
def test_every_dashboard_reader_gives_up_when_the_server_freezes_mid_read(mysql_inst, reader):
    """The read waits on a table another session locked, then the server stops: the server's
    statement limit cannot fire, so the client must give up by itself within the read's wait."""
    cls = INSTALLED[reader]
    rt, server = mysql_inst.runtime, mysql_inst.server
    line_ids = sorted(rt.meta.get("demo").lines)
    query = build_query(line_ids, source_columns_for({"ts", "line_id"}), [], limit=None)
    ctx = ReadContext(query=query, url=make_url(rt.db.tenant_url("demo")),
                      connect=lambda: rt.db.tenant("demo"), timeout_s=3.0, max_rows=10_000_000,
                      engines=rt.query_state.engines, guard=rt.db.guard)

    def read():  # noqa: ANN202
        with dashboard_wait(ctx.timeout_s):
            return read_with_fallback([cls], ctx, key="faults", failures=rt.query_state.failures)

    locker = pymysql.connect(host="127.0.0.1", port=server.port, user="root",
                             database="camet_central_demo", read_timeout=10, write_timeout=10)
    pool = ThreadPoolExecutor(1)
    try:
        locker.cursor().execute(f"LOCK TABLES {detections_table_name(line_ids[0])} WRITE")
        future = pool.submit(read)
        wait_for_lock_wait(server, future)
        server.freeze()
        started = time.monotonic()
        try:
            with pytest.raises(DatabaseUnavailable):
                future.result(timeout=15)
            assert time.monotonic() - started < 8.0  # its wait: 3 s + 1 s of margin
        finally:
            server.thaw()
    finally:
        locker.close()
        pool.shutdown(wait=True)


@pytest.mark.mysql
@pytest.mark.settings(planner_path="raw")
def test_dashboards_never_read_through_a_driver_that_cannot_be_bounded(mysql_inst):
    """ConnectorX holds the whole process while it waits for the server: a run reads through
    mysqlclient or PyMySQL even where ConnectorX is installed."""
    with asgi_server(create_engine(mysql_inst.runtime)) as base:
        auth = {"Authorization": f"Bearer {mysql_inst.api_token(base)}"}
        answer = httpx.post(base + RUN, json={"filters": {}}, headers=auth, timeout=30)
    assert answer.status_code == 200, answer.text[:300]
    assert answer.json()["meta"]["reader"] in {"pymysql", "mysqlclient"}


@pytest.mark.mysql
def test_work_outside_a_request_may_wait_longer_than_a_request(mysql_inst):
    """Jobs, commands and background imports run long statements (LOAD DATA, rollup backfills):
    only a request's connections are held to CAMET_DB_TIMEOUT_S (1 s here)."""
    rt = mysql_inst.runtime
    with rt.db.central() as conn:
        assert conn.execute(text("SELECT SLEEP(2)")).scalar() == 0
    with waiting_up_to(rt.settings.db_timeout_s), pytest.raises(SQLAlchemyError) as err:
        with rt.db.central() as conn:
            conn.execute(text("SELECT SLEEP(2)"))
    assert unavailable_cause(err.value) is not None


# --- health names each dependency, to admins --------------------------------------------------

def test_health_names_each_dependency_to_admins_only(tmp_path, caplog):
    """Sessions and rate limits on a Redis that is not there, then the database gone: anonymous
    callers learn `degraded` only; an admin's token (checked by signature: the user table may be
    what is down) also gets each dependency; the causes go to the log, once per change."""
    closed = f"redis://127.0.0.1:{free_port()}/0"
    with installation("sqlite", tmp_path, None) as inst:
        rt = inst.runtime
        token = inst.token_of("demo")
        rt.settings = rt.settings.model_copy(update={"session_backend": "redis", "redis_url": closed,
                                                     "ratelimit_storage_uri": closed})
        admin = {"Authorization": f"Bearer {token}"}
        with asgi_server(create_engine(rt)) as base, caplog.at_level(logging.WARNING):
            anonymous, took = timed(httpx.get, base + "/api/v1/health", timeout=10)
            assert anonymous.json() == {"status": "degraded"} and took < 2.0, took
            first = httpx.get(base + "/api/v1/health", headers=admin, timeout=10)
            assert first.json()["status"] == "degraded"
            assert {k: v["status"] for k, v in first.json()["checks"].items()} == {
                "database": "ok", "sessions": "down", "rate_limits": "down", "var_dir": "ok"}
            inst.break_database()
            second, took = timed(httpx.get, base + "/api/v1/health", headers=admin, timeout=10)
            assert second.json()["checks"]["database"]["status"] == "down" and took < 2.0, took
            forged = httpx.get(base + "/api/v1/health", headers={"Authorization": "Bearer x.y.z"}, timeout=10)
            assert forged.json() == {"status": "degraded"}
        for answer in (first, second):
            assert inst.leaks(answer.text) == []
            assert closed not in answer.text and "127.0.0.1" not in answer.text
        logged = [r.getMessage() for r in caplog.records if r.name.endswith("health_checks")]
        assert sum("health: sessions:" in m for m in logged) == 1, logged
        assert sum("health: database:" in m for m in logged) == 1, logged
