"""Passwords and login rules: Argon2id parameters, rehash on login, one message for every
failure, DB lockout that survives a restart, expiry, admin unlock, the token endpoint."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher, Type, extract_parameters
from fastapi.testclient import TestClient
from sqlalchemy import select, update

import identity.users as users_mod
from core import migrations
from core.errors import AuthError, ValidationFailed
from core.runtime import build_runtime
from core.schema_central import users
from identity.audit import list_events, utcnow
from identity.passwords import HASHER, hash_password
from identity.users import authenticate, create_user, find_user, unlock_user


def _hash_of(rt, user_id):
    with rt.db.central() as conn:
        return conn.execute(select(users.c.password_hash).where(users.c.id == user_id)).scalar()


def _fail(rt, settings, tenant, username, password):
    with pytest.raises(AuthError) as info:
        authenticate(rt.db, settings, tenant=tenant, username=username, password=password)
    return info.value.message


def test_argon2id_parameters_meet_rfc9106_and_owasp():
    params = extract_parameters(hash_password("una-clave-bastante-larga"))
    assert params.type is Type.ID
    assert params.memory_cost >= 64 * 1024 and params.time_cost >= 3 and params.parallelism >= 4
    assert params.salt_len >= 16 and params.hash_len >= 32
    with pytest.raises(ValidationFailed):
        hash_password("corta")


def test_login_rehashes_when_parameters_changed(auth_world):
    rt = auth_world.runtime
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    with rt.db.central() as conn:
        conn.execute(update(users).where(users.c.id == auth_world.ids["vic"])
                     .values(password_hash=weak.hash(auth_world.password)))
    assert HASHER.check_needs_rehash(_hash_of(rt, auth_world.ids["vic"]))
    authenticate(rt.db, rt.settings, tenant="acme", username="vic", password=auth_world.password)
    new_hash = _hash_of(rt, auth_world.ids["vic"])
    assert not HASHER.check_needs_rehash(new_hash)
    assert extract_parameters(new_hash).memory_cost == HASHER.memory_cost
    authenticate(rt.db, rt.settings, tenant="acme", username="vic", password=auth_world.password)
    assert _hash_of(rt, auth_world.ids["vic"]) == new_hash, "no rehash when parameters are current"


def test_unknown_user_and_wrong_password_look_the_same(auth_world, monkeypatch):
    rt = auth_world.runtime
    verifications = []
    real_verify, real_burn = users_mod.verify_password, users_mod.burn_verify
    monkeypatch.setattr(users_mod, "verify_password",
                        lambda h, p: verifications.append("v") or real_verify(h, p))
    monkeypatch.setattr(users_mod, "burn_verify", lambda p: verifications.append("b") or real_burn(p))
    messages = {
        "wrong password": _fail(rt, rt.settings, "acme", "ana", "no-es-la-clave"),
        "unknown user": _fail(rt, rt.settings, "acme", "nadie", "no-es-la-clave"),
        "unknown tenant": _fail(rt, rt.settings, "nope", "ana", "no-es-la-clave"),
        "user of another tenant": _fail(rt, rt.settings, "zeta", "ana", auth_world.password),
    }
    assert len(set(messages.values())) == 1
    assert verifications == ["v", "b", "b", "b"], "every failure costs exactly one Argon2 verification"


def test_lockout_survives_restart_and_blocks_correct_password(auth_world, settings):
    rt = auth_world.runtime
    for _ in range(settings.lockout_threshold):
        _fail(rt, settings, "acme", "ana", "no-es-la-clave")
    rt.db.dispose()
    restarted = build_runtime(settings)
    migrations.upgrade_central(restarted.db.central_engine)
    message = _fail(restarted, settings, "acme", "ana", auth_world.password)
    assert message == users_mod.LOGIN_FAILED
    user = find_user(restarted.db, tenant="acme", username="ana")
    assert user.is_locked()
    assert user.locked_until - utcnow() <= timedelta(minutes=settings.lockout_minutes)
    actions = [e.action for e in list_events(restarted.db, tenant_id=user.tenant_id)]
    assert actions.count("lockout") == 1 and "login_locked" in actions
    # the other tenant's user with the same password is unaffected
    authenticate(restarted.db, settings, tenant="zeta", username="zed", password=auth_world.password)
    restarted.db.dispose()


def test_lockout_expires_by_itself(auth_world, settings):
    rt = auth_world.runtime
    for _ in range(settings.lockout_threshold):
        _fail(rt, settings, "acme", "vic", "no-es-la-clave")
    _fail(rt, settings, "acme", "vic", auth_world.password)
    with rt.db.central() as conn:
        conn.execute(update(users).where(users.c.id == auth_world.ids["vic"])
                     .values(locked_until=utcnow() - timedelta(seconds=1)))
    assert authenticate(rt.db, settings, tenant="acme", username="vic", password=auth_world.password).id \
        == auth_world.ids["vic"]
    assert find_user(rt.db, tenant="acme", username="vic").failed_attempts == 0


def test_failures_below_threshold_then_success_resets_counter(auth_world, settings):
    rt = auth_world.runtime
    for _ in range(settings.lockout_threshold - 1):
        _fail(rt, settings, "acme", "vic", "no-es-la-clave")
    authenticate(rt.db, settings, tenant="acme", username="vic", password=auth_world.password)
    for _ in range(settings.lockout_threshold - 1):
        _fail(rt, settings, "acme", "vic", "no-es-la-clave")
    assert not find_user(rt.db, tenant="acme", username="vic").is_locked()


def test_admin_unlocks_through_the_api_only_in_its_tenant(auth_world, engine_app, settings):
    rt = auth_world.runtime
    for _ in range(settings.lockout_threshold):
        _fail(rt, settings, "acme", "vic", "no-es-la-clave")
    client = TestClient(engine_app)
    vic = auth_world.ids["vic"]
    assert client.post(f"/api/v1/users/{vic}/unlock", headers=auth_world.auth("zed")).status_code == 404
    assert find_user(rt.db, tenant="acme", username="vic").is_locked()
    r = client.post(f"/api/v1/users/{vic}/unlock", headers=auth_world.auth("ana"))
    assert r.status_code == 200 and r.json()["locked"] is False
    authenticate(rt.db, settings, tenant="acme", username="vic", password=auth_world.password)
    unlock_user(rt.db, tenant="acme", username="vic")


def test_token_endpoint_same_rules(auth_world, engine_app, settings):
    client = TestClient(engine_app)
    body = {"tenant": "acme", "username": "ana", "password": auth_world.password}
    r = client.post("/api/v1/auth/token", json=body)
    assert r.status_code == 200 and r.json()["role"] == "admin"
    assert client.get("/api/v1/users", headers={"Authorization": f"Bearer {r.json()['access_token']}"}
                      ).status_code == 200
    bad = client.post("/api/v1/auth/token", json={**body, "password": "no-es-la-clave"})
    unknown = client.post("/api/v1/auth/token", json={**body, "username": "nadie"})
    assert bad.status_code == unknown.status_code == 401
    assert bad.json() == unknown.json()
    for _ in range(settings.lockout_threshold - 1):
        client.post("/api/v1/auth/token", json={**body, "password": "no-es-la-clave"})
    assert client.post("/api/v1/auth/token", json=body).status_code == 401, "locked: right password fails"
    assert client.post("/api/v1/auth/token", json={"tenant": "acme"}).status_code == 422


def test_duplicate_and_invalid_users_are_clear_errors(auth_world):
    rt = auth_world.runtime
    with pytest.raises(ValidationFailed, match="ya existe"):
        create_user(rt.db, tenant="acme", username="ana", password=auth_world.password, role="viewer")
    with pytest.raises(ValidationFailed, match="rol"):
        create_user(rt.db, tenant="acme", username="otro", password=auth_world.password, role="root")
    with pytest.raises(ValidationFailed, match="usuario"):
        create_user(rt.db, tenant="acme", username="a b", password=auth_world.password, role="viewer")
    create_user(rt.db, tenant="zeta", username="ana", password=auth_world.password, role="viewer")
