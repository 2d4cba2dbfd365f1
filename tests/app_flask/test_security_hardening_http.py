"""Request hardening: request size and field limits (Flask, engine, the Passenger app),
proxy headers trusted only when configured, bounded integers, safe `next`, trusted hosts."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from werkzeug.test import Client

from app_fastapi.main import create_app as create_engine
from app_fastapi.wsgi import LazyEngineWSGI
from app_flask.engine_client import EngineClient
from app_flask.factory import create_app as create_pages
from app_flask.login_session import safe_next
from core.errors import SettingsError
from identity.audit import list_events
from identity.users import find_user
from tests.browser_utils import csrf_from, flask_login
from tests.conftest import AUTH_PASSWORD, make_settings
from tests.servers import free_port, wait_until_up
from wsgi import PathDispatcher

HUGE = 2**63


def _passenger_app(runtime) -> PathDispatcher:
    engine = LazyEngineWSGI(lambda: create_engine(runtime))
    return PathDispatcher(engine, lambda: create_pages(runtime, engine=EngineClient(wsgi_app=engine)))


# --- item 2: request limits ------------------------------------------------------------------

def test_flask_refuses_big_login_bodies_before_parsing_or_csrf(auth_world, flask_app):
    client = flask_app.test_client()
    big = {"tenant": "acme", "username": "ana", "password": "x", "pad": "y" * 200_000}
    assert client.post("/login", data=big).status_code == 413
    many = "&".join(f"f{i}=1" for i in range(3_000))
    response = client.post("/login", data=many, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413, "too many form fields"
    assert "demasiado grande" in response.get_data(as_text=True)


def test_flask_refuses_too_many_fields_on_logged_in_forms(auth_world, flask_app):
    client = flask_app.test_client()
    flask_login(client, "acme", "ana", AUTH_PASSWORD)
    token = csrf_from(client.get("/account/password").get_data(as_text=True))
    body = f"csrf_token={token}&" + "&".join("lineas=1" for _ in range(5_000))
    response = client.post("/dashboard/apply", data=body, content_type="application/x-www-form-urlencoded",
                           headers={"HX-Request": "true"})
    assert response.status_code == 413


def test_engine_refuses_big_bodies_by_route(auth_world, engine_app):
    client = TestClient(engine_app)
    body = {"tenant": "acme", "username": "ana", "password": "x", "pad": "y" * 100_000}
    response = client.post("/api/v1/auth/token", json=body)
    assert response.status_code == 413 and response.json()["error"] == "too_large"
    run = {"filters": {"pad": "y" * 2_000_000}}
    assert client.post("/api/v1/dashboard/run", json=run, headers=auth_world.auth("ana")).status_code == 413


def test_engine_counts_streamed_bytes_without_content_length(auth_world, engine_app):
    async def chunks():
        for _ in range(64):
            yield b"x" * 4096

    async def post() -> httpx.Response:
        transport = httpx.ASGITransport(app=engine_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await client.post("/api/v1/auth/token", content=chunks(),
                                     headers={"content-type": "application/json"})

    response = asyncio.run(post())
    assert response.status_code == 413


def test_engine_caps_list_lengths_per_filter(auth_world, engine_app):
    from sqlalchemy import insert

    from core import schema_tenant
    from filters.defaults import DEFAULT_FILTER_ROWS

    with auth_world.runtime.db.tenant("acme") as conn:
        conn.execute(insert(schema_tenant.filters_table), [dict(r, active=True) for r in DEFAULT_FILTER_ROWS])
    client = TestClient(engine_app)
    body = {"filters": {"lineas": [1] * 5_000}}
    response = client.post("/api/v1/dashboard/run", json=body, headers=auth_world.auth("ana"))
    assert response.status_code == 422
    assert any(d["field"] == "lineas" for d in response.json()["details"])


def test_passenger_application_applies_the_same_limits(auth_world, runtime):
    client = Client(_passenger_app(runtime))
    big = b"{" + b" " * 100_000 + b"}"
    r = client.post("/api/v1/auth/token", data=big, content_type="application/json")
    assert r.status_code == 413
    r = client.post("/login", data=b"a=" + b"b" * 100_000, content_type="application/x-www-form-urlencoded")
    assert r.status_code == 413


# --- item 3: proxy headers -------------------------------------------------------------------

def _token_attempt_ip(runtime, options: dict) -> str:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_engine(runtime), host="127.0.0.1", port=port,
                                           log_level="warning", **options))
    import threading

    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_until_up(f"http://127.0.0.1:{port}/api/v1/health")
        httpx.post(f"http://127.0.0.1:{port}/api/v1/auth/token",
                   json={"tenant": "acme", "username": "vic", "password": "no-es-la-clave"},
                   headers={"X-Forwarded-For": "203.0.113.9"})
    finally:
        server.should_exit = True
        thread.join(timeout=5)
    user = find_user(runtime.db, tenant="acme", username="vic")
    return list_events(runtime.db, tenant_id=user.tenant_id, limit=1)[0].ip


def test_serve_trusts_forwarded_for_only_from_a_configured_proxy(auth_world, tmp_path):
    from cli.serve import uvicorn_options, waitress_options

    rt = auth_world.runtime
    assert _token_attempt_ip(rt, uvicorn_options(rt.settings)) == "127.0.0.1"
    assert waitress_options(rt.settings) == {}
    proxied = rt.settings.model_copy(update={"trusted_proxies": "127.0.0.1"})
    assert _token_attempt_ip(rt, uvicorn_options(proxied)) == "203.0.113.9"
    assert waitress_options(proxied)["trusted_proxy"] == "127.0.0.1"


def test_flask_ignores_forwarded_for_unless_configured(auth_world, runtime, flask_app):
    client = flask_app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"csrf_token": token, "tenant": "acme", "username": "vic",
                                "password": "no-es-la-clave"}, headers={"X-Forwarded-For": "203.0.113.9"})
    tid = find_user(runtime.db, tenant="acme", username="vic").tenant_id
    assert list_events(runtime.db, tenant_id=tid, limit=1)[0].ip == "127.0.0.1"


# --- item 4: bounded integers ----------------------------------------------------------------

def test_integers_beyond_64_bits_are_4xx_not_500(auth_world, engine_app, flask_app):
    client = TestClient(engine_app)
    ana = auth_world.auth("ana")
    assert client.get(f"/api/v1/audit?before={HUGE}", headers=ana).status_code == 422
    assert client.get(f"/api/v1/audit?limit={HUGE}", headers=ana).status_code == 422
    assert client.patch(f"/api/v1/users/{HUGE}", json={}, headers=ana).status_code in (404, 422)
    assert client.post(f"/api/v1/users/{HUGE}/unlock", headers=ana).status_code in (404, 422)
    assert client.delete(f"/api/v1/users/{HUGE}", headers=ana).status_code in (404, 422)
    for layout_id in (HUGE, True, "1"):
        run = client.post("/api/v1/dashboard/run", json={"layout_id": layout_id}, headers=ana)
        assert run.status_code == 422, layout_id
    pages = flask_app.test_client()
    flask_login(pages, "acme", "ana", AUTH_PASSWORD)
    assert pages.get(f"/account/audit?before={HUGE}").status_code in (200, 404, 422)
    token = csrf_from(pages.get("/account/users").get_data(as_text=True))
    assert pages.post(f"/account/users/{HUGE}/unlock", data={"csrf_token": token}).status_code == 404


# --- item 5: unsafe `next` -------------------------------------------------------------------

UNSAFE = ["/x\r\nSet-Cookie: a=b", "/x\ny", "/x\x00", "/x\x7f", "/\\evil.example", "//evil.example",
          "/a//evil", "https://evil.example/", "/\t/evil.example", "javascript:alert(1)"]


def test_safe_next_refuses_control_chars_backslashes_and_double_slashes():
    for target in UNSAFE:
        assert safe_next(target) == "/", repr(target)
    assert safe_next("/dashboard?lineas=1&x=%0A") == "/dashboard?lineas=1&x=%0A"


def test_crlf_in_next_redirects_home_without_a_500(auth_world, flask_app):
    client = flask_app.test_client()
    flask_login(client, "acme", "ana", AUTH_PASSWORD)
    for url in ("/login?next=/x%0D%0ASet-Cookie:%20a=b", "/idioma/en?next=/x%0D%0Ay"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"] == "/"


# --- item 9: trusted hosts -------------------------------------------------------------------

def test_foreign_host_is_refused_not_reflected(auth_world, flask_app, engine_app):
    pages = flask_app.test_client()
    response = pages.get("/static//css/app.css", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert "evil.example" not in response.headers.get("Location", "")
    assert pages.get("/static//css/app.css").status_code in (200, 308), "localhost is trusted in tests"
    engine = TestClient(engine_app)
    assert engine.get("/api/v1/health", headers={"Host": "evil.example"}).status_code == 400
    assert engine.get("/api/v1/health").status_code == 200


def test_production_needs_trusted_hosts(tmp_path):
    with pytest.raises(SettingsError, match="CAMET_TRUSTED_HOSTS"):
        make_settings("sqlite", tmp_path / "var", env="production")
    settings, _ = make_settings("sqlite", tmp_path / "var", env="production",
                                trusted_hosts="camet.example.com, .camet.example.com")
    assert settings.trusted_host_list() == ["camet.example.com", ".camet.example.com"]
