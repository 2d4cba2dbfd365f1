"""Gateway keys: manage.py commands, the admin routes, the demo key, and the schema steps."""

from __future__ import annotations

import stat

from fastapi.testclient import TestClient
from sqlalchemy import delete, inspect, text

from core import migrations, schema_tenant
from core.errors import AuthError
from core.settings import PROJECT_ROOT
from identity.audit import list_events
from identity.ingest_keys import key_hash, verify_key
from tests.cli_support import manage

PLANT = str(PROJECT_ROOT / "config/demo_plant.yml")


def test_key_commands_create_list_revoke(cli_env):  # noqa: F811
    setup = (("init-db",), ("create-tenant", "acme", "--name", "ACME"),
             ("load-metadata", "--tenant", "acme", PLANT))
    for args in setup:
        assert manage(*args, env=cli_env).returncode == 0
    made = manage("create-ingest-key", "--tenant", "acme", "--lines", "L1,L2", "--name", "gw1", env=cli_env)
    assert made.returncode == 0, made.stderr
    key = made.stdout.splitlines()[0]
    assert key.startswith("cmt_") and len(key) == 47
    listed = manage("list-ingest-keys", "--tenant", "acme", env=cli_env)
    assert "gw1" in listed.stdout and "L1,L2" in listed.stdout and "active" in listed.stdout
    assert key not in listed.stdout and key[:10] in listed.stdout
    bad = manage("create-ingest-key", "--tenant", "acme", "--lines", "L9", "--name", "gw2", env=cli_env)
    assert bad.returncode != 0 and "L9" in bad.stderr and "Traceback" not in bad.stderr
    dup = manage("create-ingest-key", "--tenant", "acme", "--lines", "L1", "--name", "gw1", env=cli_env)
    assert dup.returncode != 0 and "gw1" in dup.stderr
    revoked = manage("revoke-ingest-key", "--tenant", "acme", "--name", "gw1", env=cli_env)
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    assert "revoked" in manage("list-ingest-keys", "--tenant", "acme", env=cli_env).stdout
    unknown = manage("revoke-ingest-key", "--tenant", "nope", "--name", "gw1", env=cli_env)
    assert unknown.returncode != 0 and "unknown tenant" in unknown.stderr


def test_admin_routes_show_a_key_once_and_revoke_it(auth_world, engine_app):
    rt = auth_world.runtime
    client = TestClient(engine_app)
    made = client.post("/api/v1/ingest-keys", json={"name": "gw", "lines": ["L1"]},
                       headers=auth_world.auth("ana"))
    assert made.status_code == 201, made.text
    key = made.json()["key"]
    assert verify_key(rt.db, rt.settings, key).tenant == "acme"
    listed = client.get("/api/v1/ingest-keys", headers=auth_world.auth("ana")).json()
    assert [k["name"] for k in listed] == ["gw"] and "key" not in listed[0]
    assert key not in client.get("/api/v1/ingest-keys", headers=auth_world.auth("ana")).text
    assert client.get("/api/v1/ingest-keys", headers=auth_world.auth("vic")).status_code == 403
    assert client.get("/api/v1/ingest-keys", headers=auth_world.auth("zed")).json() == []
    foreign = client.post(f"/api/v1/ingest-keys/{made.json()['id']}/revoke", headers=auth_world.auth("zed"))
    assert foreign.status_code == 404
    unknown_line = client.post("/api/v1/ingest-keys", json={"name": "gw2", "lines": ["L9"]},
                               headers=auth_world.auth("ana"))
    assert unknown_line.status_code == 422
    done = client.post(f"/api/v1/ingest-keys/{made.json()['id']}/revoke", headers=auth_world.auth("ana"))
    assert done.status_code == 200 and done.json()["revoked_at"]
    try:
        verify_key(rt.db, rt.settings, key)
        raise AssertionError("a revoked key still verifies")
    except AuthError:
        pass
    with rt.db.central() as conn:
        stored = conn.execute(text("SELECT key_hash FROM ingest_keys")).scalars().all()
    assert stored == [key_hash(rt.settings, key)] and key not in stored[0]
    actions = [e.action for e in list_events(rt.db, tenant_id=1)]
    assert "ingest_key_created" in actions and "ingest_key_revoked" in actions


def test_seed_demo_leaves_a_private_working_key_for_the_simulator(runtime, demo_tenant):
    path = runtime.settings.var_dir / "demo_ingest_key.txt"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = verify_key(runtime.db, runtime.settings, path.read_text().strip())
    assert key.tenant == "demo" and set(key.line_codes) == {"L1", "L2", "L3", "L4"}


def test_schema_steps_add_the_key_table_and_the_line_column_to_older_databases(runtime, plant_tenant):
    engine = runtime.db.tenant_engine(plant_tenant)
    with engine.begin() as conn:
        lines = conn.dialect.identifier_preparer.quote_identifier("lines")
        conn.execute(text(f"ALTER TABLE {lines} DROP COLUMN no_data_after_s"))
        conn.execute(delete(schema_tenant.schema_version).where(schema_tenant.schema_version.c.version > 1))
    assert migrations.upgrade_tenant(engine) == list(range(2, len(migrations.TENANT) + 1))
    with engine.connect() as conn:
        assert "no_data_after_s" in {c["name"] for c in inspect(conn).get_columns("lines")}
        assert set(conn.execute(text(f"SELECT no_data_after_s FROM {lines}")).scalars()) == {900}
    central = runtime.db.central_engine
    with central.begin() as conn:
        conn.execute(text("DROP TABLE ingest_keys"))
        conn.execute(text("DELETE FROM schema_version WHERE version > 1"))
    assert migrations.upgrade_central(central) == list(range(2, len(migrations.CENTRAL) + 1))
    assert inspect(central).has_table("ingest_keys")
