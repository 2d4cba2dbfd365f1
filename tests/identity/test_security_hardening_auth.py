"""Login hardening: equal Argon2 cost on every login path, tokens and sessions tied
to a credential version, usernames normalised once (NFC, trimmed, case-folded) on both backends."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from argon2.profiles import RFC_9106_LOW_MEMORY
from fastapi.testclient import TestClient
from sqlalchemy import insert, select, text

from core import migrations
from core.errors import AuthError, MigrationError, ValidationFailed
from core.schema_central import users
from identity import passwords
from identity.audit import utcnow
from identity.users import authenticate, create_user, set_password, update_user
from tests.browser_utils import flask_login
from tests.conftest import AUTH_PASSWORD


@pytest.fixture
def argon2_calls(monkeypatch) -> list[str]:
    """Every Argon2 verification made through the shared hasher, in order."""
    calls: list[str] = []

    class CountingHasher(PasswordHasher):
        def verify(self, stored: str | bytes, password: str | bytes) -> bool:
            calls.append("verify")
            return super().verify(stored, password)

    monkeypatch.setattr(passwords, "HASHER", CountingHasher.from_parameters(RFC_9106_LOW_MEMORY))
    return calls


def test_every_flask_login_path_costs_one_argon2_verification(auth_world, flask_app, argon2_calls):
    client = flask_app.test_client()
    paths = {
        "unknown tenant": ("nope", "ana", "no-es-la-clave"),
        "unknown user": ("acme", "nadie", "no-es-la-clave"),
        "wrong password": ("acme", "ana", "no-es-la-clave"),
        "over-long password, existing user": ("acme", "ana", "x" * 1025),
        "over-long password, unknown user": ("acme", "nadie", "x" * 1025),
    }
    bodies = set()
    for name, (tenant, username, password) in paths.items():
        argon2_calls.clear()
        response = flask_login(client, tenant, username, password)
        assert response.status_code == 401, name
        assert argon2_calls == ["verify"], f"{name}: {len(argon2_calls)} Argon2 verifications"
        bodies.add(response.get_data(as_text=True).count("Usuario o contraseña incorrectos"))
    assert bodies == {1}, "one generic message on every path"


def test_every_engine_token_path_costs_the_same(auth_world, engine_app, argon2_calls):
    client = TestClient(engine_app)
    over_long = {"tenant": "acme", "username": "ana", "password": "x" * 1025}
    for body in (over_long, {**over_long, "username": "nadie"}):
        argon2_calls.clear()
        assert client.post("/api/v1/auth/token", json=body).status_code == 422
        assert argon2_calls == [], "over-long passwords are refused before any lookup, for everybody"
    for username in ("ana", "nadie"):
        argon2_calls.clear()
        body = {"tenant": "acme", "username": username, "password": "no-es-la-clave"}
        assert client.post("/api/v1/auth/token", json=body).status_code == 401
        assert argon2_calls == ["verify"]


def _api_status(client, token: str) -> int:
    return client.get("/api/v1/filters", headers={"Authorization": f"Bearer {token}"}).status_code


def test_tokens_end_with_a_password_reset_role_change_or_deactivation(auth_world, engine_app):
    rt = auth_world.runtime
    client = TestClient(engine_app)

    def fresh_token(username: str) -> str:
        body = {"tenant": "acme", "username": username, "password": AUTH_PASSWORD}
        return client.post("/api/v1/auth/token", json=body).json()["access_token"]

    token = fresh_token("vic")
    assert _api_status(client, token) == 200
    set_password(rt.db, tenant="acme", username="vic", password=AUTH_PASSWORD)
    assert _api_status(client, token) == 401, "a reset (even to the same password) ends old tokens"
    token = fresh_token("vic")
    update_user(rt.db, tenant="acme", user_id=auth_world.ids["vic"], role="admin")
    assert _api_status(client, token) == 401, "a role change ends old tokens"
    token = fresh_token("vic")
    assert _api_status(client, token) == 200
    update_user(rt.db, tenant="acme", user_id=auth_world.ids["vic"], active=False)
    update_user(rt.db, tenant="acme", user_id=auth_world.ids["vic"], active=True)
    assert _api_status(client, token) == 401, "a deactivation ends old tokens for good"


def test_admin_api_cannot_reset_the_callers_own_password(auth_world, engine_app):
    client = TestClient(engine_app)
    own = client.patch(f"/api/v1/users/{auth_world.ids['ana']}", json={"password": "otra-clave-larga-1"},
                       headers=auth_world.auth("ana"))
    assert own.status_code == 409, "a stolen token alone must not take the account over"
    other = client.patch(f"/api/v1/users/{auth_world.ids['vic']}", json={"password": "otra-clave-larga-1"},
                         headers=auth_world.auth("ana"))
    assert other.status_code == 200


def test_flask_session_from_before_a_reset_or_role_change_ends(auth_world, flask_app):
    rt = auth_world.runtime
    client = flask_app.test_client()
    assert flask_login(client, "acme", "ana", AUTH_PASSWORD).status_code == 302
    assert client.get("/account/users").status_code == 200
    update_user(rt.db, tenant="acme", user_id=auth_world.ids["ana"], role="viewer", keep_an_admin=False)
    assert client.get("/account/users").status_code == 302, "role change logs the session out"
    update_user(rt.db, tenant="acme", user_id=auth_world.ids["ana"], role="admin")
    assert flask_login(client, "acme", "ana", AUTH_PASSWORD).status_code == 302
    set_password(rt.db, tenant="acme", username="ana", password=AUTH_PASSWORD)
    assert client.get("/").status_code == 302, "password reset logs the session out"


def test_usernames_are_normalised_once_on_both_backends(auth_world):
    rt = auth_world.runtime
    uid = create_user(rt.db, tenant="acme", username=" Alice ", password=AUTH_PASSWORD, role="viewer")
    with rt.db.central() as conn:
        assert conn.execute(select(users.c.username).where(users.c.id == uid)).scalar() == "alice"
    for spelling in ("alice", "ALICE", "alice ", "\talice"):
        assert authenticate(rt.db, rt.settings, tenant="acme", username=spelling,
                            password=AUTH_PASSWORD).id == uid, spelling
    for other in ("alicé", "alic\u0065\u0301", "álice", "alice2"):
        with pytest.raises(AuthError):
            authenticate(rt.db, rt.settings, tenant="acme", username=other, password=AUTH_PASSWORD)
    with pytest.raises(ValidationFailed, match="ya existe"):
        create_user(rt.db, tenant="acme", username="ALICE", password=AUTH_PASSWORD, role="viewer")


def test_per_user_login_limit_is_keyed_on_the_normalised_name(auth_world, flask_app):
    rt = auth_world.runtime
    create_user(rt.db, tenant="acme", username="staff", password=AUTH_PASSWORD, role="viewer")
    client = flask_app.test_client()
    for _ in range(10):
        assert flask_login(client, "acme", "staff", "no-es-la-clave").status_code == 401
    # U+FB00 (LATIN SMALL LIGATURE FF) case-folds to "ff": the same account, the same budget.
    assert flask_login(client, "acme", "sta\ufb00", AUTH_PASSWORD).status_code == 429


def test_migration_normalises_existing_usernames_and_binds_the_collation(runtime):
    from core.tenants import create_tenant

    create_tenant(runtime.db, "acme", name="ACME")
    with runtime.db.central() as conn:
        tid = conn.execute(text("SELECT id FROM tenants WHERE slug = 'acme'")).scalar()
        conn.execute(insert(users).values(tenant_id=tid, username=" Carla ", password_hash="x",
                                          role="viewer", active=True, failed_attempts=0,
                                          created_at=utcnow()))
    migrations.normalise_usernames(runtime.db.central_engine)
    with runtime.db.central() as conn:
        names = conn.execute(select(users.c.username).where(users.c.tenant_id == tid)).scalars().all()
        assert names == ["carla"]
        if conn.dialect.name == "mysql":
            collation = conn.execute(text(
                "SELECT collation_name FROM information_schema.columns WHERE table_schema = DATABASE() "
                "AND table_name = 'users' AND column_name = 'username'")).scalar()
            assert collation == "utf8mb4_bin"
        conn.execute(insert(users).values(tenant_id=tid, username="CARLA", password_hash="x",
                                          role="viewer", active=True, failed_attempts=0,
                                          created_at=utcnow()))
    with pytest.raises(MigrationError, match="carla"):
        migrations.normalise_usernames(runtime.db.central_engine)
