"""Tenant slugs have one spelling: trimmed and case-folded at every entry (login page, token
request, CLI), then compared exactly, so an accented or full-width look-alike is another, unknown
tenant on both backends, and every spelling of one tenant shares its login rate limit."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from limits import parse
from sqlalchemy import text

from core import migrations
from identity.ratelimit import API_LOGIN_PER_USER, LOGIN_PER_USER
from manage import main
from tests.browser_utils import csrf_from, flask_login
from tests.helpers import AUTH_PASSWORD

SAME = ["acme", "ACME", " Acme "]
LOOK_ALIKES = ["acmé", "ACMÉ", "acmë", "ácme", "ａｃｍｅ"]


def _token_status(client: TestClient, tenant: str, password: str = AUTH_PASSWORD) -> int:
    body = {"tenant": tenant, "username": "ana", "password": password}
    return client.post("/api/v1/auth/token", json=body).status_code


def test_token_route_and_login_page_know_one_spelling_per_tenant(auth_world, engine_app, flask_app):
    client = TestClient(engine_app)
    tokens = {tenant: _token_status(client, tenant) for tenant in SAME + LOOK_ALIKES}
    assert tokens == {**dict.fromkeys(SAME, 200), **dict.fromkeys(LOOK_ALIKES, 401)}
    pages = {tenant: flask_login(flask_app.test_client(), tenant, "ana", AUTH_PASSWORD).status_code
             for tenant in SAME + LOOK_ALIKES}
    assert pages == {**dict.fromkeys(SAME, 302), **dict.fromkeys(LOOK_ALIKES, 401)}


def test_every_spelling_of_a_tenant_spends_one_rate_limit(auth_world, engine_app, flask_app):
    client = TestClient(engine_app)
    allowed = parse(API_LOGIN_PER_USER).amount
    assert [_token_status(client, SAME[i % 3], "mala-clave") for i in range(allowed)] == [401] * allowed
    assert _token_status(client, "ACME", "mala-clave") == 429

    pages = flask_app.test_client()
    form = {"csrf_token": csrf_from(pages.get("/login").get_data(as_text=True)), "username": "vic",
            "password": "mala-clave"}
    allowed = parse(LOGIN_PER_USER).amount
    assert [pages.post("/login", data={**form, "tenant": SAME[i % 3]}).status_code
            for i in range(allowed)] == [401] * allowed
    assert pages.post("/login", data={**form, "tenant": "ACME"}).status_code == 429


def test_cli_takes_the_same_spelling(auth_world, capsys):
    rt = auth_world.runtime
    assert main(["install-defaults", "--tenant", " ACME ", "--keep"], runtime=rt) == 0
    assert capsys.readouterr().out.startswith("acme: ")
    with pytest.raises(SystemExit):
        main(["install-defaults", "--tenant", "acmé", "--keep"], runtime=rt)
    assert "unknown tenant 'acmé'" in capsys.readouterr().err


@pytest.mark.mysql
@pytest.mark.parametrize("backend", [pytest.param("mysql", marks=pytest.mark.mysql)])
def test_older_mysql_central_gets_exact_tenant_slugs(runtime):
    engine = runtime.db.central_engine
    step = migrations.CENTRAL.index(migrations._tenant_slugs_exact) + 1
    collation = text("SELECT COLLATION_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
                     "AND TABLE_NAME = 'tenants' AND COLUMN_NAME = 'slug'")
    with engine.begin() as conn:  # the column as releases before this step made it
        conn.execute(text("ALTER TABLE tenants MODIFY slug VARCHAR(32) CHARACTER SET utf8mb4 "
                          "COLLATE utf8mb4_unicode_ci NOT NULL"))
        conn.execute(text("DELETE FROM schema_version WHERE version >= :v"), {"v": step})
        assert conn.execute(collation).scalar() == "utf8mb4_unicode_ci"
    assert step in migrations.upgrade_central(engine)
    with engine.connect() as conn:
        assert conn.execute(collation).scalar() == "utf8mb4_bin"
