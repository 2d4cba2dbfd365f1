"""Admin routes of the external sources: status (breakers per tenant) and test connection."""

from __future__ import annotations

import asyncio

import pytest
from fastapi.testclient import TestClient

from app_fastapi.main import create_app
from broker import ApiRequest, ExternalAPIService
from broker.state import broker_state
from tests.provider_server import TOKEN, ProviderServer

STATUS = "/api/v1/external/status"
# Routes over process state (breakers, clients); stored credentials run on both backends in
# test_broker_credentials.py.
pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


def manifest_text(provider: ProviderServer) -> str:
    return (
        "apis:\n"
        f"  flap:\n    url: {provider.url('/flap')}\n    internal: true\n    retries: 0\n"
        "    breaker_failures: 2\n    cache_ttl_s: 0\n"
        f"  secured:\n    url: {provider.url('/token')}\n    internal: true\n    token_env: CAMET_T14_TOKEN\n"
        "  fx_rates:\n    url: /api/v1/demo/fx-rates\n"
        f"  acme_only:\n    url: {provider.url('/fx')}\n    internal: true\n    tenants: {{acme: {{}}}}\n"
    )


def test_status_shows_breakers_per_tenant_and_never_a_secret(runtime, auth_world, tmp_path, monkeypatch):
    monkeypatch.setenv("CAMET_T14_TOKEN", TOKEN)
    with ProviderServer() as provider:
        path = tmp_path / "apis.yml"
        path.write_text(manifest_text(provider))
        runtime.settings.external_apis_file = path
        provider.healthy = False
        manifest = broker_state(runtime).manifests.load(path)
        service = ExternalAPIService(manifest, broker_state(runtime), runtime.settings, runtime.clock,
                                 tenant="acme")
        for _ in range(2):
            asyncio.run(service.fetch_many([ApiRequest.of("flap")]))
        client = TestClient(create_app(runtime))

        acme = client.get(STATUS, headers=auth_world.auth("ana"))
        assert acme.status_code == 200
        sources = {s["id"]: s for s in acme.json()["sources"]}
        assert sources["flap"]["breaker"]["state"] == "open"
        assert sources["flap"]["breaker"]["last_error"] == "el servicio respondió 500"
        assert sources["secured"]["credential"] == "configurada"
        assert sources["acme_only"]["enabled"] is True
        assert TOKEN not in acme.text

        zeta = client.get(STATUS, headers=auth_world.auth("zed")).json()
        zeta_sources = {s["id"]: s for s in zeta["sources"]}
        assert zeta_sources["flap"]["breaker"]["state"] == "closed"  # acme's outage is not zeta's
        assert zeta_sources["acme_only"]["enabled"] is False
        assert client.get(STATUS, headers=auth_world.auth("vic")).status_code == 403
        assert client.get(STATUS).status_code == 401


def test_test_connection_reports_without_payload_or_secret(runtime, auth_world, tmp_path, monkeypatch):
    with ProviderServer() as provider:
        path = tmp_path / "apis.yml"
        path.write_text(manifest_text(provider))
        runtime.settings.external_apis_file = path
        with TestClient(create_app(runtime)) as client:  # runs the lifespan, like uvicorn
            check_test_connection(client, auth_world, provider, monkeypatch)
            assert len(broker_state(runtime).clients) == 1  # the remote calls shared one client
        assert len(broker_state(runtime).clients) == 0  # closed on shutdown


def check_test_connection(client, auth_world, provider, monkeypatch) -> None:
    """Each outcome of the admin's live test: ok, missing token, down, other tenant, unknown."""
    admin = auth_world.auth("ana")

    local = client.post("/api/v1/external/fx_rates/test", headers=admin).json()
    assert local["ok"] is True, local
    assert set(local) == {"ok", "message", "elapsed_ms"}
    missing = client.post("/api/v1/external/secured/test", headers=admin).json()
    assert missing["ok"] is False and "falta el token" in missing["message"]
    monkeypatch.setenv("CAMET_T14_TOKEN", TOKEN)
    ok = client.post("/api/v1/external/secured/test", headers=admin)
    assert ok.json()["ok"] is True and TOKEN not in ok.text
    provider.healthy = False
    down = client.post("/api/v1/external/flap/test", headers=admin).json()
    assert down == {"ok": False, "message": "el servicio respondió 500", "elapsed_ms": down["elapsed_ms"]}
    zeta = client.post("/api/v1/external/acme_only/test", headers=auth_world.auth("zed")).json()
    assert zeta["ok"] is False and "no está habilitada" in zeta["message"]
    assert provider.count("/fx") == 0
    assert client.post("/api/v1/external/nope/test", headers=admin).status_code == 404
    viewer = auth_world.auth("vic")
    assert client.post("/api/v1/external/fx_rates/test", headers=viewer).status_code == 403
