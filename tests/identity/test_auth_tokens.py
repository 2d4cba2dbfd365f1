"""Engine tokens: every defect is a 401, a deleted/locked/inactive user's token is a 401, keys
rotate by kid, roles are enforced with the role stored now."""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from core.schema_central import users
from core.settings import load_settings
from identity.audit import utcnow
from identity.engine_tokens import ALGORITHM, AUDIENCE, ISSUER, Principal, issue_token, verify_token
from identity.users import delete_user

URL = "/api/v1/users"


def _claims(world, username, **changes):
    now = int(time.time())
    claims = {"sub": username, "uid": world.ids[username], "tenant": world.tenant_of[username],
              "role": world.role_of[username], "cv": 0, "iat": now, "exp": now + 300, "iss": ISSUER,
              "aud": AUDIENCE}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(world, claims, *, key=None, kid=None):
    settings = world.runtime.settings
    return jwt.encode(claims, key or settings.secret("jwt_secret"), algorithm=ALGORITHM,
                      headers={"kid": kid or settings.jwt_kid})


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _status(client, token):
    return client.get(URL, headers={"Authorization": f"Bearer {token}"}).status_code


@pytest.fixture
def client(engine_app):
    with TestClient(engine_app) as c:
        yield c


def test_valid_token_is_accepted(auth_world, client):
    assert _status(client, auth_world.token("ana")) == 200


def test_token_defects_are_401(auth_world, client):
    good = auth_world.token("ana")
    head, body, sig = good.split(".")
    tampered_sig = f"{head}.{body}.{sig[:-4]}{'AAAA' if sig[-4:] != 'AAAA' else 'BBBB'}"
    claims = _claims(auth_world, "ana", role="admin")
    tampered_body = f"{head}.{_b64({**claims, 'tenant': 'zeta'})}.{sig}"
    alg_none = f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': 'k1'})}.{_b64(claims)}."
    cases = {
        "tampered signature": tampered_sig,
        "tampered claims": tampered_body,
        "alg none": alg_none,
        "wrong aud": _sign(auth_world, _claims(auth_world, "ana", aud="someone-else")),
        "wrong iss": _sign(auth_world, _claims(auth_world, "ana", iss="evil")),
        "expired": _sign(auth_world, _claims(auth_world, "ana", iat=int(time.time()) - 900,
                                             exp=int(time.time()) - 600)),
        "missing tenant claim": _sign(auth_world, _claims(auth_world, "ana", tenant=None)),
        "unknown kid": _sign(auth_world, _claims(auth_world, "ana"), kid="k-unknown"),
        "other key": _sign(auth_world, _claims(auth_world, "ana"), key="z" * 48),
        "bad role": _sign(auth_world, _claims(auth_world, "ana", role="root")),
        "garbage": "not-a-token",
    }
    results = {name: _status(client, token) for name, token in cases.items()}
    assert results == {name: 401 for name in cases}
    assert client.get(URL).status_code == 401
    assert client.get(URL, headers={"Authorization": f"Basic {good}"}).status_code == 401


def test_hs256_with_forged_alg_header_is_rejected(auth_world, client):
    claims = _claims(auth_world, "ana")
    forged = jwt.encode(claims, auth_world.runtime.settings.secret("jwt_secret"), algorithm="HS512",
                        headers={"kid": "k1"})
    assert _status(client, forged) == 401


def test_deleted_locked_inactive_user_tokens_are_401(auth_world, client):
    rt = auth_world.runtime
    tokens = {name: auth_world.token(name) for name in ("ana", "vic", "zed")}
    assert _status(client, tokens["ana"]) == 200
    with rt.db.central() as conn:
        conn.execute(update(users).where(users.c.id == auth_world.ids["ana"])
                     .values(locked_until=utcnow() + timedelta(minutes=10)))
    assert _status(client, tokens["ana"]) == 401
    with rt.db.central() as conn:
        conn.execute(update(users).where(users.c.id == auth_world.ids["ana"])
                     .values(locked_until=utcnow() - timedelta(minutes=1)))
    assert _status(client, tokens["ana"]) == 200, "an expired lock no longer blocks"
    with rt.db.central() as conn:
        conn.execute(update(users).where(users.c.id == auth_world.ids["zed"]).values(active=False))
    assert _status(client, tokens["zed"]) == 401
    delete_user(rt.db, tenant="acme", user_id=auth_world.ids["vic"])
    deleted = client.get("/api/v1/filters", headers={"Authorization": f"Bearer {tokens['vic']}"})
    assert deleted.status_code == 401


def test_token_naming_another_tenant_for_the_user_is_401(auth_world, client):
    principal = Principal(auth_world.ids["ana"], "ana", "zeta", "admin")
    forged = issue_token(auth_world.runtime.settings, principal)
    assert _status(client, forged) == 401


def test_roles_viewer_forbidden_and_db_role_wins(auth_world, client):
    assert _status(client, auth_world.token("vic")) == 403
    admin_token = auth_world.token("ana")
    with auth_world.runtime.db.central() as conn:
        conn.execute(update(users).where(users.c.id == auth_world.ids["ana"]).values(role="viewer"))
    assert _status(client, admin_token) == 403, "a demoted admin's older token must not keep admin rights"


def test_kid_rotation_keeps_old_tokens_valid(auth_world, tmp_path):
    old = auth_world.runtime.settings
    old_token = auth_world.token("ana")
    rotated = load_settings(**{**old.model_dump(), "jwt_secret": "n" * 40, "jwt_kid": "k2",
                               "jwt_previous_keys": f"{old.jwt_kid}:{old.secret('jwt_secret')}"})
    assert verify_token(rotated, old_token).username == "ana"
    new_token = issue_token(rotated, verify_token(rotated, old_token))
    assert jwt.get_unverified_header(new_token)["kid"] == "k2"
    assert verify_token(rotated, new_token).tenant == "acme"
    dropped = load_settings(**{**old.model_dump(), "jwt_secret": "n" * 40, "jwt_kid": "k2"})
    with pytest.raises(Exception, match="token"):
        verify_token(dropped, old_token)
