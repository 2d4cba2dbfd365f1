"""Rate limits: 429 with Retry-After on login (per user, per IP), the token endpoint and
dashboard runs (widget exports included); with Redis storage the count holds across two worker
processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest
from fastapi.testclient import TestClient
from limits import parse

from app_fastapi import deps
from app_flask.request_guards import dashboard_run_limit
from core.settings import PROJECT_ROOT
from core.tenants import create_tenant
from identity.ratelimit import API_LOGIN_PER_USER, DASHBOARD_RUN_PER_USER, LOGIN_PER_IP, LOGIN_PER_USER
from identity.users import create_user
from tests.browser_utils import csrf_from, flask_login, free_port
from tests.helpers import AUTH_PASSWORD, REDIS_URL

WRONG = "no-es-la-clave"


def _amount(limit: str) -> int:
    return parse(limit).amount


def _retry_after(response) -> int:
    value = int(response.headers["Retry-After"])
    assert 0 < value <= 60
    return value


def test_login_per_username_and_per_ip(auth_world, flask_app):
    client = flask_app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    form = {"csrf_token": token, "tenant": "acme", "username": "ana", "password": WRONG}
    statuses = [client.post("/login", data=form).status_code for _ in range(_amount(LOGIN_PER_USER))]
    assert 429 not in statuses
    blocked = client.post("/login", data=form)
    assert blocked.status_code == 429 and _retry_after(blocked)
    assert "Demasiados intentos" in blocked.get_data(as_text=True)
    other_user = client.post("/login", data={**form, "username": "vic"})
    assert other_user.status_code == 401, "the per-user limit is per user"
    fresh_users = []
    for i in range(_amount(LOGIN_PER_IP)):
        response = client.post("/login", data={**form, "username": f"u{i}"})
        fresh_users.append(response.status_code)
        if response.status_code == 429:
            break
    assert fresh_users[-1] == 429 and _retry_after(response), "per-IP limit over many usernames"
    assert len(fresh_users) - 1 >= _amount(LOGIN_PER_IP) - _amount(LOGIN_PER_USER) - 2


def test_token_endpoint_limit(auth_world, engine_app):
    client = TestClient(engine_app)
    body = {"tenant": "zeta", "username": "nobody", "password": WRONG}
    for _ in range(_amount(API_LOGIN_PER_USER)):
        assert client.post("/api/v1/auth/token", json=body).status_code == 401
    blocked = client.post("/api/v1/auth/token", json=body)
    assert blocked.status_code == 429 and _retry_after(blocked)
    assert blocked.json()["error"] == "rate_limited"
    assert blocked.headers["X-Content-Type-Options"] == "nosniff"


def test_engine_dashboard_run_limit_per_user(auth_world, engine_app, monkeypatch):
    monkeypatch.setitem(deps.ROUTE_LIMITS, deps.DASHBOARD_RUN, "2 per minute")
    client = TestClient(engine_app, raise_server_exceptions=False)
    for _ in range(2):
        response = client.post("/api/v1/dashboard/run", json={}, headers=auth_world.auth("vic"))
        assert response.status_code != 429
    blocked = client.post("/api/v1/dashboard/run", json={}, headers=auth_world.auth("vic"))
    assert blocked.status_code == 429 and _retry_after(blocked)
    other = client.post("/api/v1/dashboard/run", json={}, headers=auth_world.auth("ana"))
    assert other.status_code != 429, "per user, not global"


def test_widget_exports_spend_the_dashboard_run_limit(auth_world, engine_app, monkeypatch):
    monkeypatch.setitem(deps.ROUTE_LIMITS, deps.DASHBOARD_RUN, "3 per minute")
    client = TestClient(engine_app, raise_server_exceptions=False)
    vic = auth_world.auth("vic")
    spent = [client.post("/api/v1/dashboard/run", json={}, headers=vic),
             client.post("/api/v1/exports/widgets/1", json={}, headers=vic),
             client.post("/api/v1/exports/widgets/2?format=excel", json={}, headers=vic)]
    assert 429 not in [r.status_code for r in spent]
    for path in ("/api/v1/exports/widgets/1", "/api/v1/dashboard/run"):
        blocked = client.post(path, json={}, headers=vic)
        assert blocked.status_code == 429 and _retry_after(blocked), path
        assert blocked.json()["error"] == "rate_limited"
    assert client.post("/api/v1/exports/shifts", json={}, headers=vic).status_code != 429, \
        "the shift report runs no dashboard"
    other = client.post("/api/v1/exports/widgets/1", json={}, headers=auth_world.auth("ana"))
    assert other.status_code != 429, "per user, not global"


def test_flask_dashboard_run_decorator_per_user(auth_world, flask_app):
    @flask_app.post("/_test_apply")
    @dashboard_run_limit()
    def apply():
        return "ok"

    first, second = flask_app.test_client(), flask_app.test_client()
    flask_login(first, "acme", "vic", AUTH_PASSWORD)
    flask_login(second, "acme", "ana", AUTH_PASSWORD)
    token = csrf_from(first.get("/account/password").get_data(as_text=True))
    headers = {"X-CSRFToken": token, "HX-Request": "true"}
    for _ in range(_amount(DASHBOARD_RUN_PER_USER)):
        assert first.post("/_test_apply", headers=headers).status_code == 200
    blocked = first.post("/_test_apply", headers=headers)
    assert blocked.status_code == 429 and _retry_after(blocked)
    assert "<html" not in blocked.get_data(as_text=True), "HTMX gets a partial"
    token2 = csrf_from(second.get("/account/password").get_data(as_text=True))
    assert second.post("/_test_apply", headers={"X-CSRFToken": token2}).status_code == 200


class Worker:
    """One `passenger_wsgi.application` under waitress in its own process."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        code = ("import sys; from waitress import serve; from passenger_wsgi import application; "
                "from cli.serve import waitress_body_options; from core.settings import get_settings; "
                "serve(application, host='127.0.0.1', port=int(sys.argv[1]), threads=2, ident='', "
                "**waitress_body_options(get_settings(), engine=True))")
        self.proc = subprocess.Popen([sys.executable, "-c", code, str(self.port)], cwd=PROJECT_ROOT,
                                     env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url + "/health", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("worker did not start: " + self.proc.stderr.read().decode()[-2000:])

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture
def installation(runtime):
    """An installation on disk (or MariaDB) with a user, and a factory for worker processes."""
    settings, rt = runtime.settings, runtime
    create_tenant(rt.db, "acme", name="ACME")
    create_user(rt.db, tenant="acme", username="ana", password=AUTH_PASSWORD, role="admin")
    workers: list[Worker] = []

    def start(storage_uri: str) -> Worker:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CAMET_")}
        env.update(CAMET_ENV="test", CAMET_VAR_DIR=str(settings.var_dir),
                   CAMET_CENTRAL_DB_URL=settings.central_db_url, CAMET_SECRET_KEY=settings.secret_key,
                   CAMET_JWT_SECRET=settings.jwt_secret, CAMET_RATELIMIT_STORAGE_URI=storage_uri)
        worker = Worker(env)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


def _alternate(workers, send, n: int) -> list[int]:
    return [send(workers[i % 2]).status_code for i in range(n)]


def test_limits_hold_across_two_processes_with_redis(installation):
    a, b = installation(REDIS_URL), installation(REDIS_URL)
    body = {"tenant": "acme", "username": "ana", "password": WRONG}
    limit = _amount(API_LOGIN_PER_USER)
    statuses = _alternate([a, b], lambda w: httpx.post(w.url + "/api/v1/auth/token", json=body), limit + 1)
    assert 429 not in statuses[:limit] and statuses[limit] == 429
    last = httpx.post(a.url + "/api/v1/auth/token", json=body)
    assert last.status_code == 429 and _retry_after(last)

    with httpx.Client(base_url=a.url) as ca, httpx.Client(base_url=b.url) as cb:
        token = csrf_from(ca.get("/login").text)
        cb.cookies = ca.cookies
        form = {"csrf_token": token, "tenant": "acme", "username": "ana2", "password": WRONG}
        statuses = _alternate([ca, cb], lambda c: c.post("/login", data=form), _amount(LOGIN_PER_USER) + 1)
    assert statuses[:-1] == [401] * _amount(LOGIN_PER_USER), "sessions and CSRF are shared by both workers"
    assert statuses[-1] == 429


def test_memory_storage_counts_per_process(installation):
    a, b = installation("memory://"), installation("memory://")
    body = {"tenant": "acme", "username": "ana", "password": WRONG}
    statuses = _alternate([a, b], lambda w: httpx.post(w.url + "/api/v1/auth/token", json=body),
                          _amount(API_LOGIN_PER_USER) + 1)
    assert 429 not in statuses, "the contrast: without shared storage each process counts alone"
