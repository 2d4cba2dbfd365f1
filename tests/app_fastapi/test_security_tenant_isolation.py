"""Tenant isolation, checked over the engine's whole route table and the Flask URL map.

A route added later is walked automatically: it must require a token (unless allow-listed as
public below), answer another tenant's ids with 403/404, never leak another tenant's data,
and never crash on a tenant smuggled into the query string or the body.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from app_fastapi.deps import get_principal
from app_fastapi.routes.ingest import ingest_key_principal
from core.schema_tenant import filters_table
from tests.browser_utils import flask_login
from tests.route_walk import PARAM, api_routes, depends_on

# Routes that are public on purpose: no tenant data behind them.
PUBLIC_API = {
    ("GET", "/api/v1/health"),
    ("POST", "/api/v1/auth/token"),
}
PUBLIC_API_PREFIXES = ("/api/v1/demo/",)  # the demo external providers (fake ERP, weather, FX)
# Not JWT routes: line gateways authenticate with an ingest key scoped to one tenant and lines.
INGEST_KEY_API = {("POST", "/api/v1/ingest/detections")}
PUBLIC_PAGES = {"/login", "/health", "/static/<path:filename>", "/idioma/<code>",  # language switch
                "/favicon.ico"}

ZETA_MARKERS = ("ZETA-ONLY-MARKER", "zeta_only_param", "Zeta Corp", "zed")


def _is_public(method: str, path: str) -> bool:
    return ((method, path) in PUBLIC_API or path.startswith(PUBLIC_API_PREFIXES)
            or (method, path) in INGEST_KEY_API)


ZETA_ROW_ID = 900_001
"""A tenant-database id that exists in zeta only: each tenant has its own database, so a small
id also names acme's own row, and reaching that proves nothing about isolation."""


def _fill(path: str, world) -> str:
    """Path parameters get ids that belong to tenant zeta (user ids are global)."""
    def value(name: str) -> str:
        if name == "user_id":
            return str(world.ids["zed"])
        return str(ZETA_ROW_ID) if "id" in name else "zeta"
    return PARAM.sub(lambda m: value(m.group(1)), path)


def _leaks(text: str) -> list[str]:
    return [m for m in ZETA_MARKERS if re.search(rf"(?<![A-Za-z0-9_]){re.escape(m)}(?![A-Za-z0-9_])", text)]


@pytest.fixture
def world(auth_world):
    with auth_world.runtime.db.tenant("zeta") as conn:
        conn.execute(insert(filters_table).values(id=ZETA_ROW_ID, class_name="ToggleFilter",
                                                  param_name="zeta_only_param",
                                                  label="ZETA-ONLY-MARKER", config={}, sort_order=99,
                                                  active=True))
    return auth_world


def test_every_tenant_route_depends_on_the_verified_principal(engine_app):
    unprotected = [(m, p) for m, p, r in api_routes(engine_app)
                   if not _is_public(m, p) and not depends_on(r.dependant, get_principal)]
    assert unprotected == []
    assert len(list(api_routes(engine_app))) >= 8


def test_ingest_routes_depend_on_a_verified_ingest_key_and_refuse_user_tokens(world, engine_app):
    routes = {(m, p): r for m, p, r in api_routes(engine_app)}
    client = TestClient(engine_app, raise_server_exceptions=False)
    for method, path in INGEST_KEY_API:
        assert depends_on(routes[(method, path)].dependant, ingest_key_principal), path
        for headers in ({}, world.auth("ana"), {"X-Api-Key": "cmt_not-a-key"}):
            r = client.request(method, path, params={"tenant": "zeta"},
                               json={"tenant": "zeta", "detections": []}, headers=headers)
            assert r.status_code == 401, f"{method} {path} {headers} → {r.status_code}"
            assert not _leaks(r.text)


def test_walk_engine_routes_with_foreign_and_missing_tokens(world, engine_app):
    client = TestClient(engine_app, raise_server_exceptions=False)
    walked, checked_foreign_ids = 0, 0
    zeta_saw_marker = False
    for method, route_path, _route in api_routes(engine_app):
        path = _fill(route_path, world)
        if _is_public(method, route_path):
            continue
        walked += 1
        bare = client.request(method, path, json={})
        assert bare.status_code == 401, f"{method} {route_path} without token → {bare.status_code}"
        for username in ("ana", "vic"):
            for body in ({}, {"tenant": "zeta", "tenant_id": 2}):
                r = client.request(method, path, params={"tenant": "zeta"}, json=body,
                                   headers=world.auth(username))
                where = f"{method} {route_path} as {username} body={body}"
                assert r.status_code < 500, f"{where} → {r.status_code} {r.text[:300]}"
                assert not _leaks(r.text), f"{where} leaked {_leaks(r.text)}: {r.text[:300]}"
                if PARAM.search(route_path):
                    checked_foreign_ids += 1
                    assert r.status_code in (403, 404, 422), f"{where} reached zeta's object: {r.status_code}"
        if method == "GET" and not PARAM.search(route_path):
            own = client.request(method, route_path, headers=world.auth("zed"))
            zeta_saw_marker |= bool(_leaks(own.text))
    assert walked >= 6 and checked_foreign_ids > 0
    assert zeta_saw_marker, "zeta's own token must see its marker (else the leak check proves nothing)"


def test_walk_flask_pages_with_a_session_of_another_tenant(world, flask_app):
    client = flask_app.test_client()
    rules = [r for r in flask_app.url_map.iter_rules() if r.rule not in PUBLIC_PAGES]
    assert any(r.rule == "/" for r in rules)
    anonymous = flask_app.test_client()
    for rule in rules:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            path = _fill(rule.rule.replace("<", "{").replace(">", "}"), world)
            r = anonymous.open(path, method=method, headers={"X-CSRFToken": "x"})
            assert r.status_code in (302, 400, 401, 404), f"anonymous {method} {rule.rule} → {r.status_code}"
            if r.status_code == 302:
                assert "/login" in r.headers["Location"]
    assert flask_login(client, "acme", "ana", world.password).status_code == 302
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/").get_data(as_text=True)).group(1)
    for rule in rules:
        if rule.rule == "/logout":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            path = _fill(rule.rule.replace("<", "{").replace(">", "}"), world)
            r = client.open(path + "?tenant=zeta", method=method, data={"tenant": "zeta"},
                            headers={"X-CSRFToken": csrf, "HX-Request": "true"})
            text = r.get_data(as_text=True)
            assert r.status_code < 500, f"{method} {rule.rule} → {r.status_code}"
            assert not _leaks(text), f"{method} {rule.rule} leaked {_leaks(text)}"
