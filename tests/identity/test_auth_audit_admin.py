"""Audit log readable by the tenant's admin only; user administration scoped to the tenant;
operator CLI reads passwords from stdin, never from arguments."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient

from cli.users import register
from core.errors import AuthError
from identity.audit import list_events
from identity.users import authenticate, find_user
from manage import build_parser, main
from tests.browser_utils import csrf_from, flask_login
from tests.helpers import AUTH_PASSWORD


def test_admin_reads_only_its_tenants_audit(auth_world, engine_app):
    rt = auth_world.runtime
    client = TestClient(engine_app)
    client.post("/api/v1/auth/token", json={"tenant": "acme", "username": "vic", "password": "mala-clave-1"})
    client.post("/api/v1/auth/token", json={"tenant": "zeta", "username": "zed", "password": "mala-clave-2"})
    r = client.get("/api/v1/audit", headers=auth_world.auth("ana"))
    assert r.status_code == 200
    events = r.json()["events"]
    assert {"user_created", "login_failed"} <= {e["action"] for e in events}
    failed = [e for e in events if e["action"] == "login_failed"]
    assert failed[0]["username"] == "vic" and failed[0]["ip"] and failed[0]["ts"]
    assert all(e["username"] != "zed" for e in events)
    assert client.get("/api/v1/audit", headers=auth_world.auth("vic")).status_code == 403
    zeta = client.get("/api/v1/audit", headers=auth_world.auth("zed")).json()["events"]
    assert {e["username"] for e in zeta} == {"zed"}
    page = client.get("/api/v1/audit", params={"limit": 1, "before": events[0]["id"]},
                      headers=auth_world.auth("ana")).json()["events"]
    assert [e["id"] for e in page] == [events[1]["id"]]
    tenant_id = find_user(rt.db, tenant="acme", username="ana").tenant_id
    assert len(list_events(rt.db, tenant_id=tenant_id)) == len(events)


def test_admin_user_management_api(auth_world, engine_app):
    rt = auth_world.runtime
    client = TestClient(engine_app)
    ana = auth_world.auth("ana")
    created = client.post("/api/v1/users", json={"username": "nuevo", "password": AUTH_PASSWORD,
                                                  "role": "viewer"}, headers=ana)
    assert created.status_code == 201
    new_id = created.json()["id"]
    assert "password" not in created.text and "argon2" not in created.text
    assert client.post("/api/v1/users", json={"username": "x", "password": AUTH_PASSWORD},
                       headers=auth_world.auth("vic")).status_code == 403
    assert client.post("/api/v1/users", json={"username": "nuevo", "password": AUTH_PASSWORD},
                       headers=ana).status_code == 409, "a duplicate is a conflict"
    assert client.post("/api/v1/users", json={"username": "corto", "password": "corta"},
                       headers=ana).status_code == 422
    assert client.patch(f"/api/v1/users/{new_id}", json={"role": "admin"}, headers=auth_world.auth("zed")
                        ).status_code == 404
    promoted = client.patch(f"/api/v1/users/{new_id}", json={"role": "admin"}, headers=ana)
    assert promoted.json()["role"] == "admin"
    assert client.patch(f"/api/v1/users/{auth_world.ids['ana']}", json={"active": False},
                        headers=ana).status_code == 409, "an admin cannot lock itself out"
    assert client.delete(f"/api/v1/users/{new_id}", headers=auth_world.auth("zed")).status_code == 404
    assert client.delete(f"/api/v1/users/{new_id}", headers=ana).status_code == 204
    assert find_user(rt.db, tenant="acme", username="nuevo") is None
    names = [u["username"] for u in client.get("/api/v1/users", headers=ana).json()]
    assert names == ["ana", "vic"]
    actions = [e["action"] for e in client.get("/api/v1/audit", headers=ana).json()["events"]]
    assert {"user_created", "user_updated", "user_deleted"} <= set(actions)


def test_flask_audit_page_for_admins_only(auth_world, flask_app):
    admin, viewer = flask_app.test_client(), flask_app.test_client()
    flask_login(admin, "acme", "ana", AUTH_PASSWORD)
    flask_login(viewer, "acme", "vic", AUTH_PASSWORD)
    page = admin.get("/account/audit")
    assert page.status_code == 200 and "login_ok" in page.get_data(as_text=True)
    assert viewer.get("/account/audit").status_code == 403


def test_cli_create_user_set_password_unlock(auth_world, monkeypatch, capsys):
    rt = auth_world.runtime
    monkeypatch.setattr("sys.stdin", io.StringIO("clave-por-stdin-1\n"))
    assert main(["create-user", "--tenant", "acme", "--username", "op", "--role", "viewer",
                 "--password-stdin"], runtime=rt) == 0
    authenticate(rt.db, rt.settings, tenant="acme", username="op", password="clave-por-stdin-1")
    monkeypatch.setattr("sys.stdin", io.StringIO("otra-por-stdin-2\n"))
    assert main(["set-password", "--tenant", "acme", "--username", "op", "--password-stdin"], runtime=rt) == 0
    authenticate(rt.db, rt.settings, tenant="acme", username="op", password="otra-por-stdin-2")
    for _ in range(rt.settings.lockout_threshold):
        with pytest.raises(AuthError):
            authenticate(rt.db, rt.settings, tenant="acme", username="op", password="mala-clave-99")
    assert find_user(rt.db, tenant="acme", username="op").is_locked()
    assert main(["unlock-user", "--tenant", "acme", "--username", "op"], runtime=rt) == 0
    authenticate(rt.db, rt.settings, tenant="acme", username="op", password="otra-por-stdin-2")
    monkeypatch.setattr("sys.stdin", io.StringIO("corta\n"))
    with pytest.raises(SystemExit) as exit_info:
        main(["set-password", "--tenant", "acme", "--username", "op", "--password-stdin"], runtime=rt)
    assert exit_info.value.code != 0 and "Traceback" not in capsys.readouterr().err


def test_cli_never_takes_a_password_argument():
    assert register is not None
    with pytest.raises(SystemExit):
        build_parser().parse_args(["create-user", "--tenant", "acme", "--username", "x", "--role", "viewer",
                                   "--password", "secreto-en-argv"])


def test_flask_users_page_create_and_unlock(auth_world, flask_app):
    rt = auth_world.runtime
    admin, viewer = flask_app.test_client(), flask_app.test_client()
    flask_login(admin, "acme", "ana", AUTH_PASSWORD)
    flask_login(viewer, "acme", "vic", AUTH_PASSWORD)
    assert viewer.get("/account/users").status_code == 403
    page = admin.get("/account/users")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "vic" in text and "zed" not in text
    token = csrf_from(text)
    bad = admin.post("/account/users", data={"csrf_token": token, "username": "nueva", "password": "corta"})
    assert bad.status_code == 422 and find_user(rt.db, tenant="acme", username="nueva") is None
    ok = admin.post("/account/users", data={"csrf_token": token, "username": "nueva",
                                            "password": AUTH_PASSWORD, "role": "viewer"})
    assert ok.status_code == 302 and find_user(rt.db, tenant="acme", username="nueva").role == "viewer"
    for _ in range(rt.settings.lockout_threshold):
        with pytest.raises(AuthError):
            authenticate(rt.db, rt.settings, tenant="acme", username="vic", password="mala-clave-99")
    assert "Desbloquear" in admin.get("/account/users").get_data(as_text=True)
    foreign = admin.post(f"/account/users/{auth_world.ids['zed']}/unlock", data={"csrf_token": token})
    assert foreign.status_code == 404
    done = admin.post(f"/account/users/{auth_world.ids['vic']}/unlock", data={"csrf_token": token})
    assert done.status_code == 302 and not find_user(rt.db, tenant="acme", username="vic").is_locked()
