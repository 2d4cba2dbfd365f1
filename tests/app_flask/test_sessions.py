"""Server-side sessions: only an opaque id in the cookie, rotation at login, destruction at
logout and password change, idle and absolute timeouts, file and Redis storage."""

from __future__ import annotations

import re
import time

import pytest
import redis
from a2wsgi import ASGIMiddleware

from app_fastapi.main import create_app as create_engine
from app_flask.engine_client import EngineClient
from app_flask.factory import SESSION_COOKIE, create_app
from identity.users import create_user, delete_user
from tests.browser_utils import csrf_from, flask_login
from tests.helpers import AUTH_PASSWORD, REDIS_URL

SID = re.compile(r"^[A-Za-z0-9_-]{40,64}$")


def _cookie(client):
    cookie = client.get_cookie(SESSION_COOKIE)
    return cookie.value if cookie else None


def _stored(app, sid):
    iface = app.session_interface
    store_id = iface.key_prefix + sid
    if hasattr(iface, "cache"):
        return iface.cache.get(store_id)
    raw = iface.client.get(store_id)
    return None if raw is None else iface.serializer.decode(raw)


def _logged_in(client) -> bool:
    return client.get("/").status_code == 200


def test_cookie_is_only_an_opaque_id_and_rotates_at_login(auth_world, flask_app):
    client = flask_app.test_client()
    client.get("/login")
    before = _cookie(client)
    assert before and SID.match(before)
    response = flask_login(client, "acme", "ana", AUTH_PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    header = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(SESSION_COOKIE)][0]
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Secure" not in header
    after = _cookie(client)
    assert SID.match(after) and after != before
    assert "ana" not in after and "acme" not in after and "." not in after
    stored = _stored(flask_app, after)
    assert stored["uid"] == auth_world.ids["ana"] and stored["tenant"] == "acme"
    assert _stored(flask_app, before) is None, "the pre-login session is gone"
    assert _logged_in(client)
    replay = flask_app.test_client()
    replay.set_cookie(SESSION_COOKIE, before)
    assert not _logged_in(replay)


@pytest.mark.settings(trusted_hosts="camet.example")
def test_secure_cookie_and_hsts_over_https(auth_world, flask_app):
    client = flask_app.test_client()
    page = client.get("/login", base_url="https://camet.example")
    header = [h for h in page.headers.getlist("Set-Cookie") if h.startswith(SESSION_COOKIE)][0]
    assert "Secure" in header
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    data = {"csrf_token": csrf_from(page.get_data(as_text=True)), "tenant": "acme", "username": "ana",
            "password": AUTH_PASSWORD}
    no_referer = client.post("/login", data=data, base_url="https://camet.example")
    assert no_referer.status_code == 400, "Flask-WTF's HTTPS referrer check is on"
    ok = client.post("/login", data=data, base_url="https://camet.example",
                     headers={"Referer": "https://camet.example/login"})
    assert ok.status_code == 302
    assert "Strict-Transport-Security" not in client.get("/login").headers


def test_logout_destroys_the_session_server_side(auth_world, flask_app):
    client = flask_app.test_client()
    flask_login(client, "acme", "ana", AUTH_PASSWORD)
    sid = _cookie(client)
    token = csrf_from(client.get("/").get_data(as_text=True))
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert _stored(flask_app, sid) is None
    replay = flask_app.test_client()
    replay.set_cookie(SESSION_COOKIE, sid)
    assert replay.get("/").status_code == 302


def test_password_change_ends_every_session_of_the_user(auth_world, flask_app):
    first, second, other = (flask_app.test_client() for _ in range(3))
    for client, user in ((first, "vic"), (second, "vic"), (other, "ana")):
        assert flask_login(client, "acme", user, AUTH_PASSWORD).status_code == 302
    sid = _cookie(first)
    token = csrf_from(first.get("/account/password").get_data(as_text=True))
    new = "otra-clave-nueva-1"
    mismatch = first.post("/account/password", data={"csrf_token": token, "current": AUTH_PASSWORD,
                                                     "new": new, "confirm": "distinta-123456"})
    assert mismatch.status_code == 422 and _logged_in(first)
    wrong = first.post("/account/password", data={"csrf_token": token, "current": "no-es-la-clave",
                                                  "new": new, "confirm": new})
    assert wrong.status_code == 422 and _logged_in(first)
    done = first.post("/account/password", data={"csrf_token": token, "current": AUTH_PASSWORD,
                                                 "new": new, "confirm": new})
    assert done.status_code == 302 and "changed=1" in done.headers["Location"]
    assert _stored(flask_app, sid) is None
    assert not _logged_in(first) and not _logged_in(second)
    assert _logged_in(other), "another user's session is untouched"
    assert flask_login(flask_app.test_client(), "acme", "vic", AUTH_PASSWORD).status_code == 401
    assert flask_login(flask_app.test_client(), "acme", "vic", "otra-clave-nueva-1").status_code == 302


def test_deleted_user_session_ends(auth_world, flask_app):
    client = flask_app.test_client()
    flask_login(client, "acme", "vic", AUTH_PASSWORD)
    assert _logged_in(client)
    delete_user(auth_world.runtime.db, tenant="acme", user_id=auth_world.ids["vic"])
    assert not _logged_in(client)


@pytest.mark.parametrize("key, age_s", [("seen_at", 61 * 60), ("login_at", 13 * 3600)])
def test_idle_and_absolute_timeouts(auth_world, flask_app, key, age_s):
    client = flask_app.test_client()
    flask_login(client, "acme", "ana", AUTH_PASSWORD)
    assert _logged_in(client)
    with client.session_transaction() as sess:
        sess[key] = int(time.time()) - age_s
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert not _logged_in(client)


def test_htmx_request_without_session_gets_hx_redirect(auth_world, flask_app):
    response = flask_app.test_client().get("/", headers={"HX-Request": "true"})
    assert response.status_code == 401 and response.headers["HX-Redirect"].startswith("/login")


def test_login_redirect_only_to_local_paths(auth_world, flask_app):
    for target, expected in (("/account/password", "/account/password"), ("https://evil.example/", "/"),
                             ("//evil.example/x", "/"), ("/\\evil.example", "/")):
        client = flask_app.test_client()
        response = flask_login(client, "acme", "ana", AUTH_PASSWORD, next_url=target)
        assert response.headers["Location"] == expected


@pytest.mark.settings(session_backend="redis")
def test_redis_session_backend(runtime):
    from core.tenants import create_tenant

    rt, settings = runtime, runtime.settings
    assert settings.redis_url == REDIS_URL
    create_tenant(rt.db, "acme", name="ACME")
    create_user(rt.db, tenant="acme", username="ana", password=AUTH_PASSWORD, role="admin")
    engine = EngineClient(wsgi_app=ASGIMiddleware(create_engine(rt)))
    app = create_app(rt, engine=engine)
    client = app.test_client()
    flask_login(client, "acme", "ana", AUTH_PASSWORD)
    sid = _cookie(client)
    assert SID.match(sid)
    store = redis.Redis.from_url(settings.redis_url)
    key = app.session_interface.key_prefix + sid
    assert store.exists(key) and 0 < store.ttl(key) <= settings.session_idle_minutes * 60
    assert _logged_in(client)
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    assert not store.exists(key)
    engine.close()
