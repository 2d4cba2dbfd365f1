"""A viewer gets 403 on every admin API route and every admin page (both route tables walked)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from app_fastapi.deps import get_admin
from tests.browser_utils import flask_login
from tests.route_walk import PARAM, api_routes, depends_on

ADMIN_PAGE_PREFIXES = ("/admin", "/account/users", "/account/audit")


def test_every_admin_api_route_needs_the_admin_role(auth_world, engine_app):
    routes = list(api_routes(engine_app))
    admin_routes = [(m, p) for m, p, r in routes if depends_on(r.dependant, get_admin)]
    expected = {(m, p) for m, p, _ in routes if p.startswith(("/api/v1/admin", "/api/v1/users"))}
    assert expected <= set(admin_routes)
    assert len(admin_routes) >= 20
    client = TestClient(engine_app, raise_server_exceptions=False)
    viewer = auth_world.auth("vic")
    for method, path in admin_routes:
        r = client.request(method, PARAM.sub("1", path), json={}, headers=viewer)
        assert r.status_code == 403, f"viewer {method} {path} → {r.status_code}"


def test_every_admin_page_is_forbidden_to_viewers(auth_world, flask_app):
    client = flask_app.test_client()
    assert flask_login(client, "acme", "vic", auth_world.password).status_code == 302
    rules = [r for r in flask_app.url_map.iter_rules() if r.rule.startswith(ADMIN_PAGE_PREFIXES)]
    assert len(rules) >= 10
    html = client.get("/").get_data(as_text=True)
    assert "Administración" not in html
    csrf = html.split('name="csrf-token" content="')[1].split('"')[0]
    for rule in rules:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            path = re.sub(r"<any\(([a-z]+)[^>]*>", r"\1", rule.rule)
            path = re.sub(r"<[^>]+>", "1", path)
            r = client.open(path, method=method, headers={"X-CSRFToken": csrf})
            assert r.status_code == 403, f"viewer {method} {rule.rule} → {r.status_code}"
