"""Redis down or frozen: pages give a Spanish 503 (static files still served) and recover without
a restart; rate limits fall back to per-process memory with one warning, so login, tokens and
ingestion keep answering. Against real processes: a private `redis-server` that the test kills
(closed port) or freezes with SIGSTOP, and the whole app (pages and engine) under waitress."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from core import migrations
from core.redis_link import ping_redis, redis_dependencies
from core.runtime import Runtime, build_runtime
from core.tenants import create_tenant
from identity.ingest_keys import create_key
from identity.users import create_user
from ingest.plant_metadata import load_plant_file
from tests.browser_utils import LiveServer, combined_app, csrf_from
from tests.helpers import AUTH_PASSWORD, DEMO_PLANT, reused_password_hashes
from tests.private_redis import PrivateRedis, available, private_redis
from tests.servers import free_port

pytestmark = pytest.mark.skipif(not available(), reason="redis-server is not installed")

WRONG = "no-es-la-clave"
# Short Redis timeouts keep each fault test to seconds; the retry window lets recovery show fast.
FAST = {"redis_timeout_s": 1.0, "redis_retry_s": 0.3}
# Three requests against a frozen Redis may cost one 1 s timeout (the retry window then skips
# Redis), plus a wide margin for a loaded machine, against redis-py's default of 5 s per call
# (at least 15 s, each request ending in a 500). The HTTP client gives up at HANG_S.
BOUND_S, HANG_S = 10.0, 30.0
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"])


@pytest.fixture
def redis_server() -> Iterator[PrivateRedis]:
    with private_redis() as server:
        yield server


@pytest.fixture
def install(settings_factory, clock) -> Iterator[Callable[..., Runtime]]:
    """Builds an installation (tenant acme with the demo plant, admin ana) on given settings."""
    built: list[Runtime] = []

    def make(**overrides: object) -> Runtime:
        rt = build_runtime(settings_factory(**{**FAST, **overrides}), clock=clock)
        built.append(rt)
        migrations.upgrade_central(rt.db.central_engine)
        create_tenant(rt.db, "acme", name="ACME")
        load_plant_file(rt.db, "acme", DEMO_PLANT, today=rt.clock.now_utc().date())
        with reused_password_hashes():
            create_user(rt.db, tenant="acme", username="ana", password=AUTH_PASSWORD, role="admin")
        return rt

    yield make
    for rt in built:
        rt.close()


def _login(client: httpx.Client, password: str = AUTH_PASSWORD, username: str = "ana") -> httpx.Response:
    token = csrf_from(client.get("/login").text)
    return client.post("/login", data={"csrf_token": token, "tenant": "acme", "username": username,
                                       "password": password})


def _until(check: Callable[[], bool], timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "did not recover in time"
        time.sleep(0.1)


def _assert_unavailable_page(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text[:300]
    assert "Servicio no disponible" in response.text and "sesiones" in response.text
    assert "Traceback" not in response.text and "redis" not in response.text.lower()
    assert int(response.headers["Retry-After"]) > 0


def _warnings(caplog: pytest.LogCaptureFixture, word: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING and word in r.getMessage()]


@sqlite_only
def test_session_redis_down_gives_503_pages_and_recovers_without_restart(install, redis_server, caplog):
    rt = install(session_backend="redis", redis_url=redis_server.url())
    with LiveServer(combined_app(rt)) as server, httpx.Client(base_url=server.url, timeout=HANG_S) as client:
        assert _login(client).status_code == 302
        assert client.get("/").status_code == 200
        redis_server.kill()
        caplog.clear()
        for path in ("/login", "/", "/admin/importar", "/login"):
            _assert_unavailable_page(client.get(path))
        _assert_unavailable_page(client.post("/login", data={"tenant": "acme", "username": "ana"}))
        assert client.get("/static/css/auth.css").status_code == 200, "static files need no session"
        down = _warnings(caplog, "sessions")
        assert len(down) == 1, [r.getMessage() for r in caplog.records]
        assert redis_server.url() not in down[0].getMessage() or "@" not in redis_server.url()

        redis_server.start()  # same port, empty: every session is gone, the app was never restarted
        _until(lambda: client.get("/login").status_code == 200)
        assert _login(client).status_code == 302
        assert client.get("/").status_code == 200
        assert len(_warnings(caplog, "sessions")) == 1, "the outage is logged once"


@sqlite_only
def test_frozen_session_redis_costs_one_timeout_not_a_hang(install, redis_server):
    rt = install(session_backend="redis", redis_url=redis_server.url(), redis_retry_s=3.0)
    with LiveServer(combined_app(rt)) as server, httpx.Client(base_url=server.url, timeout=HANG_S) as client:
        assert _login(client).status_code == 302
        redis_server.freeze()
        started = time.monotonic()
        pages = [client.get(path) for path in ("/", "/login", "/account/password")]
        elapsed = time.monotonic() - started
        for page in pages:
            _assert_unavailable_page(page)
        assert elapsed < BOUND_S, f"{elapsed:.1f} s for 3 pages against a frozen Redis"
        assert client.get("/static/css/auth.css").status_code == 200
        redis_server.thaw()
        _until(lambda: client.get("/").status_code == 200)  # the same session, still logged in


@sqlite_only
def test_session_redis_on_a_closed_port_from_start(install):
    rt = install(session_backend="redis", redis_url=f"redis://127.0.0.1:{free_port()}/0")
    with LiveServer(combined_app(rt)) as server, httpx.Client(base_url=server.url, timeout=HANG_S) as client:
        _assert_unavailable_page(client.get("/login"))
        assert client.get("/static/favicon.svg").status_code == 200


def _app_with_a_limited_page(rt: Runtime):  # noqa: ANN202 - a WSGI app
    """The whole app as passenger_wsgi builds it, plus a page limited to 2 POSTs a minute
    (Flask-Limiter's counting shows without spending an Argon2 hash per request)."""
    from a2wsgi import ASGIMiddleware

    from app_fastapi.main import create_app as create_engine
    from app_flask.engine_client import EngineClient
    from app_flask.factory import create_app as create_pages
    from app_flask.request_guards import csrf, limiter
    from wsgi import PathDispatcher

    engine = ASGIMiddleware(create_engine(rt))
    pages = create_pages(rt, engine=EngineClient(wsgi_app=engine))

    @pages.post("/_limited")
    @csrf.exempt
    @limiter.limit("2 per minute")
    def limited() -> str:
        return "ok"

    return PathDispatcher(engine, lambda: pages)


@sqlite_only
def test_login_and_token_limits_fall_back_to_memory_while_redis_is_down(install, caplog, monkeypatch):
    from app_fastapi.routes import tokens

    monkeypatch.setattr(tokens, "API_LOGIN_PER_USER", "1 per minute")  # fewer Argon2 hashes to spend
    rt = install(ratelimit_storage_uri=f"redis://127.0.0.1:{free_port()}/0")
    with LiveServer(_app_with_a_limited_page(rt)) as server, \
            httpx.Client(base_url=server.url, timeout=HANG_S) as client:
        body = {"tenant": "acme", "username": "nobody", "password": WRONG}
        sent = [client.post("/api/v1/auth/token", json=body) for _ in range(2)]
        assert [r.status_code for r in sent] == [401, 429], "limits count, in this process's memory"
        assert int(sent[-1].headers["Retry-After"]) > 0
        good = client.post("/api/v1/auth/token", json={**body, "username": "ana", "password": AUTH_PASSWORD})
        assert good.status_code == 200, "per user: another user gets a token"

        assert [client.post("/_limited").status_code for _ in range(3)] == [200, 200, 429]
        assert _login(client).status_code == 302, "the login page's limits answer too"
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    engine_warnings = [r for r in _warnings(caplog, "rate limit") if r.name.startswith("identity")]
    assert len(engine_warnings) == 1, [r.getMessage() for r in caplog.records]
    page_warnings = [r for r in _warnings(caplog, "storage unreachable") if r.name == "flask-limiter"]
    assert len(page_warnings) == 1, [r.getMessage() for r in caplog.records]


def _rows(n: int, start_s: int) -> list[dict[str, object]]:
    return [{"line": "L1", "ts": f"2026-11-18T10:{(start_s + i) // 60:02d}:{(start_s + i) % 60:02d}",
             "product_code": "PF-045", "weight_g": 45.0, "status": "ok"} for i in range(n)]


def _ingest_key(rt: Runtime) -> str:
    meta = rt.meta.get("acme")
    _rec, key = create_key(rt.db, rt.settings, tenant="acme", name="gw1", lines=["L1"],
                           known_lines=set(meta.lines_by_code))
    return key


def test_ingestion_keeps_accepting_batches_while_the_limit_redis_is_down(install):
    rt = install(ratelimit_storage_uri=f"redis://127.0.0.1:{free_port()}/0",
                 ingest_rate_per_key="3 per minute")
    key = _ingest_key(rt)
    with LiveServer(combined_app(rt)) as server:
        sent = [httpx.post(server.url + "/api/v1/ingest/detections", json={"detections": _rows(5, 5 * i)},
                           headers={"X-Api-Key": key}, timeout=HANG_S) for i in range(4)]
    assert [r.status_code for r in sent] == [200, 200, 200, 429], [r.text[:200] for r in sent]
    assert [r.json()["rows_inserted"] for r in sent[:3]] == [5, 5, 5]
    assert int(sent[3].headers["Retry-After"]) > 0


@sqlite_only
def test_frozen_limit_redis_costs_a_timeout_then_counts_move_back_to_redis(install, redis_server):
    # The retry window outlasts the three batches: the first one pays the timeout, the others
    # count in memory at once; Redis is tried again 3 s later.
    rt = install(ratelimit_storage_uri=redis_server.url(), redis_retry_s=3.0)
    key = _ingest_key(rt)
    with LiveServer(combined_app(rt)) as server:
        def send(i: int) -> httpx.Response:
            return httpx.post(server.url + "/api/v1/ingest/detections", json={"detections": _rows(2, 2 * i)},
                              headers={"X-Api-Key": key}, timeout=HANG_S)

        assert send(0).status_code == 200
        redis_server.freeze()
        started = time.monotonic()
        frozen = [send(i).status_code for i in range(1, 4)]
        elapsed = time.monotonic() - started
        assert frozen == [200, 200, 200]
        assert elapsed < BOUND_S, f"{elapsed:.1f} s for 3 batches against a frozen Redis"
        redis_server.thaw()
        redis_server.client().flushdb()  # the private server's own database: count from zero
        _until(lambda: send(9).status_code == 200 and bool(redis_server.client().keys("*ingest-key*")))


def test_ping_redis_names_each_state_within_its_timeout(redis_server):
    url = redis_server.url()
    assert ping_redis(url, 1.0) is None
    redis_server.freeze()
    started = time.monotonic()
    frozen = ping_redis(url, 1.0)
    assert frozen and time.monotonic() - started < BOUND_S
    redis_server.kill()
    closed = ping_redis(url, 1.0)
    assert closed and closed != frozen
    assert "password" not in (ping_redis("redis://user:password@127.0.0.1:1/0", 1.0) or "")


def test_redis_dependencies_lists_what_health_should_ping(tmp_path):
    from core.settings import load_settings

    plain = load_settings(env="test", var_dir=tmp_path)
    assert redis_dependencies(plain) == {}
    shared = load_settings(env="test", var_dir=tmp_path, session_backend="redis", redis_url="redis://h:1/0",
                           ratelimit_storage_uri="redis://h:1/2", result_cache_url="redis://h:1/3")
    assert redis_dependencies(shared) == {"sessions": "redis://h:1/0", "rate_limits": "redis://h:1/2",
                                          "result_cache": "redis://h:1/3"}
