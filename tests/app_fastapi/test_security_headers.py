"""OWASP headers on pages, partials, static files, API JSON and every kind of error, and
error bodies without stack traces, SQL or versions."""

from __future__ import annotations

import re

import httpx
from fastapi.testclient import TestClient

from app_fastapi.version import VERSION
from tests.browser_utils import LiveServer, combined_app, flask_login
from tests.helpers import AUTH_PASSWORD

LEAKS = ("Traceback", "SELECT", "sqlalchemy", "Werkzeug", "Python/", "uvicorn", "waitress", "File \"")


def _check(headers, what: str, *, html: bool) -> None:
    csp = headers.get("Content-Security-Policy", "")
    script_src = re.search(r"script-src ([^;]*)", csp)
    assert "frame-ancestors 'none'" in csp, what
    if script_src:
        assert "unsafe-inline" not in script_src.group(1) and "unsafe-eval" not in script_src.group(1), what
    if html:
        assert "'nonce-" in csp, what
    else:
        assert csp.startswith("default-src 'none'"), what
    assert headers.get("X-Content-Type-Options") == "nosniff", what
    assert headers.get("Referrer-Policy") == "strict-origin-when-cross-origin", what
    assert "camera=()" in headers.get("Permissions-Policy", ""), what
    assert headers.get("X-Frame-Options") == "DENY", what
    assert "Server" not in headers and "server" not in headers, what


def _no_leaks(text: str, what: str) -> None:
    found = [w for w in LEAKS if w in text]
    assert not found, f"{what} shows {found}"


def test_flask_pages_partials_static_and_errors(auth_world, flask_app):
    @flask_app.get("/_test_boom")
    def boom():
        raise RuntimeError("SELECT password_hash FROM users -- sqlalchemy exploded")

    client = flask_app.test_client()
    login = client.get("/login")
    _check(login.headers, "login page", html=True)
    nonce = re.search(r"'nonce-([^']+)'", login.headers["Content-Security-Policy"]).group(1)
    scripts = re.findall(r"<script[^>]*>", login.get_data(as_text=True))
    assert scripts and all(f'nonce="{nonce}"' in s and "src=" in s for s in scripts)
    assert client.get("/login").headers["Content-Security-Policy"] != login.headers["Content-Security-Policy"]
    flask_login(client, "acme", "ana", AUTH_PASSWORD)
    cases = {
        "dashboard page": client.get("/"),
        "htmx partial (404)": client.get("/no-such-page", headers={"HX-Request": "true"}),
        "404 page": client.get("/no-such-page"),
        "405 page": client.put("/login"),
        "500 page": client.get("/_test_boom"),
        "static js": client.get("/static/vendor/htmx.min.js"),
    }
    for what, response in cases.items():
        _check(response.headers, what, html=True)
        if what != "static js":
            _no_leaks(response.get_data(as_text=True), what)
    assert cases["500 page"].status_code == 500
    assert "error interno" in cases["500 page"].get_data(as_text=True)
    partial = cases["htmx partial (404)"].get_data(as_text=True)
    assert cases["htmx partial (404)"].status_code == 404
    assert "<html" not in partial and "error-box" in partial
    assert cases["dashboard page"].headers["Cache-Control"] == "no-store"


def test_engine_json_and_errors(auth_world, engine_app):
    @engine_app.get("/api/v1/_test_boom")
    def boom():
        raise RuntimeError("SELECT password_hash FROM users -- sqlalchemy exploded")

    client = TestClient(engine_app, raise_server_exceptions=False)
    cases = {
        "health JSON": client.get("/api/v1/health"),
        "authenticated JSON": client.get("/api/v1/users", headers=auth_world.auth("ana")),
        "401": client.get("/api/v1/users"),
        "403": client.get("/api/v1/users", headers=auth_world.auth("vic")),
        "404": client.get("/api/v1/nothing-here"),
        "422": client.post("/api/v1/auth/token", json={"tenant": 3}),
        "500": client.get("/api/v1/_test_boom"),
    }
    for what, response in cases.items():
        _check(response.headers, f"engine {what}", html=False)
        _no_leaks(response.text, f"engine {what}")
        assert response.headers["content-type"].startswith("application/json"), what
    assert cases["500"].status_code == 500 and cases["500"].json() == {"error": "internal",
                                                                         "message": "internal error"}
    assert VERSION not in cases["500"].text
    docs = client.get("/api/docs")
    csp = docs.headers["Content-Security-Policy"]
    assert "'sha256-" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp


def test_served_by_waitress_without_server_header(auth_world, runtime):
    with LiveServer(combined_app(runtime)) as server:
        for path in ("/login", "/api/v1/health", "/api/v1/users", "/static/vendor/htmx.min.js", "/missing"):
            response = httpx.get(server.url + path)
            assert "server" not in response.headers, path
            _check(response.headers, f"live {path}", html=not path.startswith("/api/"))
