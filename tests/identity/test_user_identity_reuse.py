"""A deleted user's identity is never handed to a new user: re-creating the same username gets a
new id, so the old user's tokens stay refused and its private saved views stay gone (both backends)."""

from __future__ import annotations

from datetime import datetime

from fastapi.testclient import TestClient
from sqlalchemy import select, text

from cli.defaults import install_tenant_defaults
from core import schema_tenant as t
from tests.helpers import AUTH_PASSWORD


def _token(client: TestClient, username: str) -> str:
    body = {"tenant": "acme", "username": username, "password": AUTH_PASSWORD}
    res = client.post("/api/v1/auth/token", json=body)
    assert res.status_code == 200, res.text
    return res.json()["access_token"]


def test_recreated_username_gets_neither_the_old_token_nor_the_old_views(auth_world, engine_app):
    rt = auth_world.runtime
    install_tenant_defaults(rt, "acme", replace=True)
    client = TestClient(engine_app)
    admin = auth_world.auth("ana")
    created = client.post("/api/v1/users", json={"username": "bob", "password": AUTH_PASSWORD}, headers=admin)
    assert created.status_code == 201, created.text
    old_id = created.json()["id"]
    old = {"Authorization": "Bearer " + _token(client, "bob")}
    view = client.post("/api/v1/views", json={"name": "Privada de Bob", "filters": {}}, headers=old)
    assert view.status_code == 201, view.text
    assert client.put(f"/api/v1/views/{view.json()['id']}/start", headers=old).status_code in (200, 204)

    assert client.delete(f"/api/v1/users/{old_id}", headers=admin).status_code == 204
    again = client.post("/api/v1/users", json={"username": "bob", "password": AUTH_PASSWORD}, headers=admin)
    assert again.status_code == 201

    assert client.get("/api/v1/views", headers=old).status_code == 401, "the deleted user's token stays dead"
    new = {"Authorization": "Bearer " + _token(client, "bob")}
    listed = client.get("/api/v1/views", headers=new)
    assert listed.status_code == 200
    assert listed.json()["views"] == [] and listed.json().get("start") is None
    assert client.get(f"/api/v1/views/{view.json()['id']}", headers=new).status_code == 404
    assert again.json()["id"] != old_id, "a deleted user's id is never reused"
    with rt.db.tenant("acme") as conn:
        assert conn.execute(select(t.saved_views.c.id).where(t.saved_views.c.owner_id == old_id)).all() == []
        assert conn.execute(text("SELECT COUNT(*) FROM saved_view_starts WHERE user_id = :u"),
                            {"u": old_id}).scalar() == 0


def test_sqlite_users_table_of_an_older_install_is_rebuilt_to_never_reuse_ids(tmp_path):
    from sqlalchemy import delete, insert

    from core import migrations
    from core.db import build_engine
    from core.schema_central import schema_version, tenants, users

    engine = build_engine(f"sqlite:///{tmp_path / 'central.db'}")
    migrations.upgrade_central(engine)
    step = migrations.CENTRAL.index(migrations._users_ids_never_reused) + 1
    with engine.begin() as conn:  # the users table as releases before this step made it
        ddl = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'users'")).scalar()
        conn.exec_driver_sql("DROP TABLE users")
        conn.exec_driver_sql(ddl.replace("AUTOINCREMENT", ""))
        conn.execute(delete(schema_version).where(schema_version.c.version >= step))
        tid = conn.execute(insert(tenants).values(slug="acme", name="ACME", db_url="x", timezone="UTC",
                                                  active=True, created_at=datetime(2026, 1, 1))).lastrowid
        rows = [dict(tenant_id=tid, username=f"u{i}", password_hash="h", role="viewer", active=True,
                     failed_attempts=0, created_at=datetime(2026, 1, 1), credential_version=i)
                for i in (1, 2, 3)]
        conn.execute(insert(users), rows)
        conn.execute(delete(users).where(users.c.username == "u3"))
        conn.execute(insert(users).values(**rows[2]))
        reused = conn.execute(select(users.c.id).where(users.c.username == "u3")).scalar()
    assert reused == 3, "the older table hands a deleted user's id to the next one"

    assert migrations.upgrade_central(engine) == list(range(step, len(migrations.CENTRAL) + 1))
    with engine.begin() as conn:
        ddl = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'users'")).scalar()
        assert "AUTOINCREMENT" in ddl
        kept = conn.execute(select(users.c.id, users.c.username, users.c.credential_version)
                            .order_by(users.c.id)).all()
        assert [tuple(r) for r in kept] == [(1, "u1", 1), (2, "u2", 2), (3, "u3", 3)]
        conn.execute(delete(users).where(users.c.username == "u3"))
        conn.execute(insert(users).values(**rows[2]))
        assert conn.execute(select(users.c.id).where(users.c.username == "u3")).scalar() == 4
    assert migrations.upgrade_central(engine) == []
    engine.dispose()
