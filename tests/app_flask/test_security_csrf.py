"""CSRF on every state-changing Flask route: missing or wrong token → 400 and nothing changes;
HTMX requests send the token in a header, and a stale one answers with HX-Refresh."""

from __future__ import annotations

import re

from identity.users import authenticate
from tests.browser_utils import csrf_from, flask_login
from tests.helpers import AUTH_PASSWORD

NEW = "otra-clave-nueva-1"


def _meta_token(client) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', client.get("/").get_data(as_text=True)).group(1)


def _change(token: str | None) -> dict:
    data = {"current": AUTH_PASSWORD, "new": NEW, "confirm": NEW}
    if token is not None:
        data["csrf_token"] = token
    return data


def test_every_state_changing_route_refuses_a_missing_token(auth_world, flask_app):
    client = flask_app.test_client()
    flask_login(client, "acme", "ana", AUTH_PASSWORD)
    unsafe = [(rule.rule, m) for rule in flask_app.url_map.iter_rules()
              for m in sorted(rule.methods & {"POST", "PUT", "PATCH", "DELETE"}) if "<" not in rule.rule]
    assert ("/logout", "POST") in unsafe and ("/login", "POST") in unsafe
    for path, method in unsafe:
        response = client.open(path, method=method, data={"x": "1"})
        assert response.status_code == 400, f"{method} {path} without CSRF token → {response.status_code}"
    assert client.get("/").status_code == 200, "still logged in: nothing happened"


def test_password_change_with_missing_or_wrong_token_changes_nothing(auth_world, flask_app):
    rt = auth_world.runtime
    client = flask_app.test_client()
    flask_login(client, "acme", "vic", AUTH_PASSWORD)
    other = flask_app.test_client()
    flask_login(other, "acme", "ana", AUTH_PASSWORD)
    foreign_token = _meta_token(other)
    for token in (None, "garbage", foreign_token):
        response = client.post("/account/password", data=_change(token))
        assert response.status_code == 400
        assert "Traceback" not in response.get_data(as_text=True)
    authenticate(rt.db, rt.settings, tenant="acme", username="vic", password=AUTH_PASSWORD)
    assert client.get("/").status_code == 200
    good = client.post("/account/password", data=_change(csrf_from(client.get("/account/password").text)))
    assert good.status_code == 302, "the same request with its token goes through"


def test_login_without_token_does_not_log_in(auth_world, flask_app):
    client = flask_app.test_client()
    client.get("/login")
    response = client.post("/login", data={"tenant": "acme", "username": "ana", "password": AUTH_PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_htmx_header_token_and_stale_token_refresh(auth_world, flask_app):
    client = flask_app.test_client()
    flask_login(client, "acme", "ana", AUTH_PASSWORD)
    token = _meta_token(client)
    ok = client.post("/logout", headers={"HX-Request": "true", "X-CSRFToken": token})
    assert ok.status_code == 302
    assert client.get("/").status_code == 302, "logged out via the header token"
    flask_login(client, "acme", "ana", AUTH_PASSWORD)
    stale = client.post("/logout", headers={"HX-Request": "true", "X-CSRFToken": token})
    assert stale.status_code == 400
    assert stale.headers.get("HX-Refresh") == "true"
    assert "Recargá" in stale.get_data(as_text=True)
    assert client.get("/").status_code == 200, "the stale request changed nothing"
    plain = client.post("/logout", headers={"X-CSRFToken": token})
    assert plain.status_code == 400 and "HX-Refresh" not in plain.headers
