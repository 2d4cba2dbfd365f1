"""Both deployment modes: one WSGI app for Passenger, and two processes for development."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from app_fastapi.main import create_app as create_engine
from app_fastapi.wsgi import LazyEngineWSGI
from app_flask.engine_client import EngineClient
from app_flask.errors import EngineError
from app_flask.factory import create_app as create_pages
from core.settings import PROJECT_ROOT
from tests.servers import asgi_server, free_port, wsgi_server
from wsgi import PathDispatcher


def test_passenger_application_serves_both_apps(runtime, wsgi_kind):
    import passenger_wsgi
    from core.runtime import ProcessRuntime
    from wsgi import build_application

    assert isinstance(passenger_wsgi.application, PathDispatcher)
    built = []

    def test_runtime():
        built.append(os.getpid())
        return runtime

    application = build_application(ProcessRuntime(test_runtime))
    assert built == []
    with wsgi_server(application, kind=wsgi_kind) as base:
        pages = httpx.get(base + "/health")
        engine = httpx.get(base + "/api/v1/health")
        login = httpx.get(base + "/login")
    assert pages.status_code == 200 and pages.json()["status"] == "ok"
    assert login.status_code == 200 and "<form" in login.text
    assert engine.status_code == 200, engine.text
    assert engine.json() == {"status": "ok"}, "anonymous callers learn only the status"
    assert built == [os.getpid()]


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.settings(central_db_url="mysql+pymysql://root@127.0.0.1:1/none")
def test_engine_health_reports_an_unreachable_database(settings):
    from core.runtime import build_runtime

    rt = build_runtime(settings)
    try:
        with asgi_server(create_engine(rt)) as base:
            body = httpx.get(base + "/api/v1/health").json()
        assert body["status"] == "degraded"
    finally:
        rt.close()


def test_lazy_engine_is_built_on_first_request_once_per_process(runtime, wsgi_kind):
    built = []

    def factory():
        built.append(os.getpid())
        return create_engine(runtime)

    lazy = LazyEngineWSGI(factory)
    assert built == []
    app = PathDispatcher(lazy, lambda: create_pages(runtime))
    with wsgi_server(app, kind=wsgi_kind) as base:
        for _ in range(3):
            response = httpx.get(base + "/api/v1/health")
            assert response.status_code == 200, response.text
    assert built == [os.getpid()]


def test_engine_client_in_process_and_over_http_agree(runtime):
    engine_app = create_engine(runtime)
    in_process = EngineClient(wsgi_app=LazyEngineWSGI(lambda: engine_app))
    with asgi_server(engine_app) as base:
        remote = EngineClient(base_url=base)
        assert remote.json("GET", "/api/v1/health") == in_process.json("GET", "/api/v1/health")
        for client in (in_process, remote):
            with pytest.raises(EngineError) as err:
                client.json("GET", "/api/v1/no-such-route")
            assert err.value.status_code == 404
    assert in_process.mode == "in-process" and remote.mode == "http"


@pytest.mark.parametrize("backend", ["sqlite"])
def test_manage_serve_starts_two_processes_and_stops_on_ctrl_c(settings, runtime):
    from core import migrations

    migrations.upgrade_central(runtime.db.central_engine)
    port, api_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMET_")}
    env.update(CAMET_VAR_DIR=str(settings.var_dir), CAMET_ENV="test", PYTHONPATH=str(PROJECT_ROOT))
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port), "--api-port", str(api_port)],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        out = ""
        while "Press Ctrl-C" not in out and time.monotonic() < deadline and proc.poll() is None:
            out += proc.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in out and "demo-camet" in out, out
        assert httpx.get(f"http://127.0.0.1:{api_port}/api/v1/health").json()["status"] == "ok"
        assert httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=20) == 0
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{api_port}/api/v1/health", timeout=2)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
