"""Credentials set by a tenant's admin: encrypted at rest, write-only, used for that tenant only."""

from __future__ import annotations

import asyncio
from functools import partial

from fastapi.testclient import TestClient
from sqlalchemy import select

from app_fastapi.main import create_app
from broker import ApiRequest, ExternalAPIService
from broker.credentials import stored_credentials
from broker.state import broker_state
from core import schema_tenant as t
from tests.provider_server import ProviderServer

TOKENS = {"acme": "tok-acme-111", "zeta": "tok-zeta-222"}  # what tests/provider_server.py accepts


def erp_call(runtime, tenant: str, day: str):
    manifest = broker_state(runtime).manifests.load(runtime.settings.external_apis_file)
    service = ExternalAPIService(manifest, broker_state(runtime), runtime.settings, runtime.clock,
                                 tenant=tenant,
                                 env={}, credentials=partial(stored_credentials, runtime.db,
                                                             runtime.settings, tenant))
    request = ApiRequest.of("erp", {"day": day})
    return asyncio.run(service.fetch_many([request]))[request]


def test_stored_credentials_are_encrypted_write_only_and_per_tenant(runtime, auth_world, tmp_path):
    with ProviderServer() as provider:
        path = tmp_path / "apis.yml"
        path.write_text(f"apis:\n  erp:\n    url: {provider.url('/tenant-erp')}\n    internal: true\n"
                        "    retries: 0\n    tenants: {acme: {}, zeta: {}}\n"
                        "  fx_rates:\n    url: /api/v1/demo/fx-rates\n")
        runtime.settings.external_apis_file = path
        client = TestClient(create_app(runtime))
        ana, zed, vic = (auth_world.auth(u) for u in ("ana", "zed", "vic"))
        url = "/api/v1/external/erp/credential"

        assert "credenciales (401)" in erp_call(runtime, "acme", "d1").message  # nothing stored yet
        assert client.put(url, json={"value": TOKENS["acme"]}, headers=ana).status_code == 204
        with runtime.db.tenant("acme") as conn:
            stored = conn.execute(select(t.external_credentials)).one()
        assert TOKENS["acme"] not in stored.secret_enc and stored.updated_by == "ana"
        status = client.get("/api/v1/external/status", headers=ana)
        assert {s["id"]: s["credential"] for s in status.json()["sources"]}["erp"] == "guardada"
        assert TOKENS["acme"] not in status.text

        assert erp_call(runtime, "acme", "d2").payload["owner"] == "acme"
        assert "credenciales (401)" in erp_call(runtime, "zeta", "d2").message  # acme's is not zeta's
        assert client.put(url, json={"value": TOKENS["zeta"]}, headers=zed).status_code == 204
        assert erp_call(runtime, "zeta", "d3").payload["owner"] == "zeta"
        assert erp_call(runtime, "acme", "d3").payload["owner"] == "acme"
        tested = client.post("/api/v1/external/erp/test", headers=ana)
        assert tested.json()["ok"] is True and TOKENS["acme"] not in tested.text

        assert client.put(url, json={"value": "x"}, headers=vic).status_code == 403
        assert client.put(url, json={"value": ""}, headers=ana).status_code == 422
        assert client.put(url, json={"value": "x", "tenant": "zeta"}, headers=ana).status_code == 422
        local = client.put("/api/v1/external/fx_rates/credential", json={"value": "x"}, headers=ana)
        assert local.status_code == 422
        unknown = client.put("/api/v1/external/nope/credential", json={"value": "x"}, headers=ana)
        assert unknown.status_code == 404

        runtime.settings.secret_key = "another-secret-key-" + "z" * 32  # the key changed: unreadable
        assert "vuelva a cargarla" in erp_call(runtime, "acme", "d4").message
        assert client.delete(url, headers=ana).status_code == 204
        assert client.delete(url, headers=ana).status_code == 404
        assert "credenciales (401)" in erp_call(runtime, "acme", "d5").message


def test_migration_adds_the_credentials_table_to_an_existing_tenant(runtime):
    from sqlalchemy import delete, inspect

    from core import migrations
    from core.tenants import create_tenant

    create_tenant(runtime.db, "old", name="Old Plant")
    engine = runtime.db.tenant_engine("old")
    step = migrations.TENANT.index(migrations._tenant_external_credentials) + 1
    with runtime.db.tenant("old") as conn:  # back to a database made before this step existed
        t.external_credentials.drop(conn)
        conn.execute(delete(t.schema_version).where(t.schema_version.c.version >= step))
    assert "external_credentials" not in inspect(engine).get_table_names()
    assert step in migrations.upgrade_tenant(engine)
    assert "external_credentials" in inspect(engine).get_table_names()
    assert migrations.upgrade_tenant(engine) == []
