"""ExternalAPIService and DataBroker against real HTTP servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import timedelta

import pytest

from broker import (
    ApiRequest,
    BrokerState,
    DataBroker,
    ExternalAPIService,
    Fetched,
    ManifestLoader,
    load_manifest,
    parse_manifest,
)
from core.errors import ExternalAPIError
from core.settings import load_settings
from tests.provider_server import TOKEN, ProviderServer, closed_port_url
from widgets.exchange_rate import ExchangeRateWidget


@pytest.fixture
def provider():
    with ProviderServer(slow_s=1.5) as server:
        yield server


@pytest.fixture
def state():
    s = BrokerState()
    yield s
    s.close()


@pytest.fixture
def bsettings(tmp_path):
    return load_settings(env="test", var_dir=tmp_path / "var")


def manifest_for(provider: ProviderServer, **extra: str):
    """Entries on the test server (127.0.0.1, hence `internal: true`), no cache unless asked."""
    entries = {
        "fx": f"url: {provider.url('/fx')}\n    timeout_s: 2",
        "slow": f"url: {provider.url('/slow')}\n    timeout_s: 0.3",
        "fail": f"url: {provider.url('/fail')}\n    timeout_s: 2",
        "malformed": f"url: {provider.url('/malformed')}",
        "wrong_type": f"url: {provider.url('/wrong-type')}",
        "big": f"url: {provider.url('/big')}\n    max_bytes: 100000",
        "redirect": f"url: {provider.url('/redirect')}",
        "down": f"url: {closed_port_url()}\n    timeout_s: 1\n    retries: 0",
        "secured": f"url: {provider.url('/token')}\n    token_env: FX_TOKEN",
        "posted": f"url: {provider.url('/echo')}\n    method: POST",
        **extra,
    }
    lines = ["apis:"]
    for key, body in entries.items():
        if "cache_ttl_s" not in body:
            body += "\n    cache_ttl_s: 0"
        lines.append(f"  {key}:\n    {body}\n    internal: true")
    return parse_manifest("\n".join(lines))


def service_for(manifest, state, settings, clock, tenant: str = "acme", env=None) -> ExternalAPIService:
    return ExternalAPIService(manifest, state, settings, clock, tenant=tenant, env=env or {})


def fetch(service: ExternalAPIService, *requests: ApiRequest) -> dict:
    return asyncio.run(service.fetch_many(requests))


def one(service: ExternalAPIService, request: ApiRequest):
    return fetch(service, request)[request]


def test_healthy_api_returns_payload_and_forwards_params(provider, state, bsettings, clock):
    service = service_for(manifest_for(provider), state, bsettings, clock)
    req = ApiRequest.of("fx", {"base": "EUR", "start": "2026-03-01"})
    result = one(service, req)
    assert isinstance(result, Fetched) and result.origin == "live" and not result.stale
    rates = [{"date": "2026-03-01", "rate": 1000.5}]
    assert result.payload == {"base": "EUR", "quote": "ARS", "rates": rates}
    assert result.fetched_at == clock.now_utc()
    assert provider.calls == [("/fx", {"base": "EUR", "start": "2026-03-01"})]


@pytest.mark.parametrize(
    ("api", "fragment"),
    [
        ("slow", "sin respuesta en 0.3 s"),
        ("fail", "respondió 503"),
        ("malformed", "no es JSON válido"),
        ("wrong_type", "tipo de contenido inesperado (text/html)"),
        ("big", "demasiado grande"),
        ("redirect", "no se siguen redirecciones"),
        ("down", "no disponible"),
        ("secured", "falta el token"),
        ("missing", "declares no API 'missing'"),
    ],
)
def test_each_failure_is_an_error_value_not_an_exception(provider, state, bsettings, clock, api, fragment):
    service = service_for(manifest_for(provider), state, bsettings, clock)
    result = one(service, ApiRequest.of(api))
    assert isinstance(result, ExternalAPIError)
    assert fragment in result.message
    assert result.api_id == api


def test_redirect_to_an_internal_address_is_not_followed(provider, state, bsettings, clock):
    service = service_for(manifest_for(provider), state, bsettings, clock)
    result = one(service, ApiRequest.of("redirect"))
    assert "302" in result.message
    assert [p for p, _ in provider.calls] == ["/redirect"]  # nothing else was requested


def test_get_is_retried_within_its_budget_and_other_failures_are_not(provider, state, bsettings, clock):
    manifest = manifest_for(provider, fail3=f"url: {provider.url('/fail')}\n    retries: 3\n    timeout_s: 5",
                            post_fail=f"url: {provider.url('/fail')}\n    method: POST\n    retries: 3")
    service = service_for(manifest, state, bsettings, clock)
    assert isinstance(one(service, ApiRequest.of("fail3")), ExternalAPIError)
    assert provider.count("/fail") == 4  # first attempt + 3 retries
    wrong = service_for(manifest, state, bsettings, clock, env={"FX_TOKEN": "nope"})
    assert "credenciales (401)" in one(wrong, ApiRequest.of("secured")).message
    assert provider.count("/token") == 1  # a 401 is not retried
    provider.calls.clear()
    one(service, ApiRequest.of("post_fail"))
    assert len(provider.calls) == 1  # POST is not idempotent: never retried


def test_token_from_env_var_is_sent_as_bearer_and_never_shown(provider, state, bsettings, clock, caplog):
    manifest = manifest_for(provider)
    assert one(service_for(manifest, state, bsettings, clock, env={"FX_TOKEN": TOKEN}),
               ApiRequest.of("secured")).payload["rates"][0]["rate"] == 1000.5
    with caplog.at_level("DEBUG"):
        error = one(service_for(manifest, BrokerState(), bsettings, clock, env={"FX_TOKEN": "nope-secret"}),
                    ApiRequest.of("secured"))
    assert "nope-secret" not in error.message and "nope-secret" not in caplog.text
    assert "127.0.0.1" not in error.message  # no URL on the card either


def test_post_sends_params_as_json(provider, state, bsettings, clock):
    service = service_for(manifest_for(provider), state, bsettings, clock)
    assert one(service, ApiRequest.of("posted", {"a": "1"})).payload == {"echo": {"a": "1"}}


def test_calls_run_concurrently(provider, state, bsettings, clock):
    provider.slow_s = 0.5
    manifest = manifest_for(provider, slow2=f"url: {provider.url('/slow')}\n    timeout_s: 3")
    service = service_for(manifest, state, bsettings, clock)
    results = fetch(service, *[ApiRequest.of("slow2", {"n": str(i)}) for i in range(3)])
    assert all(isinstance(v, Fetched) for v in results.values())
    assert provider.max_in_flight == 3


def test_per_host_limit_bounds_concurrent_requests(provider, state, bsettings, clock):
    provider.slow_s = 0.3
    manifest = manifest_for(provider, slow2=f"url: {provider.url('/slow')}\n    timeout_s: 5")
    service = service_for(manifest, state, bsettings, clock)
    state.clients.per_host = 2  # after the first use of the settings
    results = fetch(service, *[ApiRequest.of("slow2", {"n": str(i)}) for i in range(4)])
    assert all(isinstance(v, Fetched) for v in results.values())
    assert provider.max_in_flight == 2


def test_one_client_per_event_loop(provider, state, bsettings, clock):
    service = service_for(manifest_for(provider), state, bsettings, clock)

    async def twice() -> None:
        await service.fetch_many([ApiRequest.of("fx", {"n": "1"})])
        await service.fetch_many([ApiRequest.of("fx", {"n": "2"})])

    asyncio.run(twice())
    assert state.clients.created == 1
    asyncio.run(twice())  # another loop (like a2wsgi's thread) gets its own client
    assert state.clients.created == 2


def test_equal_requests_are_made_once(provider, state, bsettings, clock):
    broker = DataBroker(service_for(manifest_for(provider), state, bsettings, clock))
    widgets = [ExchangeRateWidget(widget_id=i, title="fx", config={"api": "fx"}) for i in (1, 2)]
    payloads = asyncio.run(broker.fetch_external(widgets))
    assert set(payloads) == {1, 2}
    assert payloads[1] == payloads[2]
    assert len(provider.calls) == 1


def test_cache_serves_repeats_until_the_ttl_and_keys_on_params(provider, state, bsettings, clock):
    manifest = manifest_for(provider, cached=f"url: {provider.url('/fx')}\n    cache_ttl_s: 60")
    service = service_for(manifest, state, bsettings, clock)
    week = ApiRequest.of("cached", {"start": "2026-11-01"})
    assert one(service, week).origin == "live"
    clock.advance(timedelta(seconds=59))
    again = one(service, week)
    assert again.origin == "cache" and again.payload["rates"][0]["date"] == "2026-11-01"
    assert provider.count("/fx") == 1
    assert one(service, ApiRequest.of("cached", {"start": "2026-11-02"})).origin == "live"
    assert provider.count("/fx") == 2  # other parameters: another entry
    clock.advance(timedelta(seconds=2))
    assert one(service, week).origin == "live"
    assert provider.count("/fx") == 3


def test_stale_answer_is_served_marked_when_the_provider_fails(provider, state, bsettings, clock):
    body = f"url: {provider.url('/flap')}\n    cache_ttl_s: 60\n    retries: 0"
    manifest = manifest_for(provider, flap=body)
    service = service_for(manifest, state, bsettings, clock)
    first = one(service, ApiRequest.of("flap"))
    provider.healthy = False
    clock.advance(timedelta(minutes=5))
    stale = one(service, ApiRequest.of("flap"))
    assert stale.stale and stale.payload == first.payload
    assert stale.fetched_at == first.fetched_at and "respondió 500" in stale.error
    assert provider.count("/flap") == 2
    clock.advance(timedelta(seconds=bsettings.broker_stale_max_s))
    too_old = one(service, ApiRequest.of("flap"))
    assert isinstance(too_old, ExternalAPIError) and "respondió 500" in too_old.message


def test_memory_cache_is_bounded_lru():
    from datetime import UTC, datetime

    from broker.cache import CacheEntry, MemoryCache

    cache = MemoryCache(max_entries=2)
    at = datetime(2026, 11, 18, tzinfo=UTC)
    cache.put("a", CacheEntry(1, at))
    cache.put("b", CacheEntry(2, at))
    assert cache.get("a").payload == 1  # "a" is now the most recently used
    cache.put("c", CacheEntry(3, at))
    assert len(cache) == 2 and cache.get("b") is None and cache.get("a").payload == 1


def test_breaker_opens_after_failures_fails_fast_and_closes_after_recovery(provider, state, bsettings, clock):
    body = (f"url: {provider.url('/flap')}\n    retries: 0\n"
            "    breaker_failures: 3\n    breaker_cooldown_s: 30")
    service = service_for(manifest_for(provider, flap=body), state, bsettings, clock)
    req = ApiRequest.of("flap")
    provider.healthy = False
    for _ in range(3):
        assert "respondió 500" in one(service, req).message
    breaker = state.breakers.peek("flap", "acme")
    assert breaker.state == "open" and provider.count("/flap") == 3
    fast = one(service, req)
    assert "en pausa" in fast.message and provider.count("/flap") == 3  # no call while open
    clock.advance(timedelta(seconds=31))
    assert "respondió 500" in one(service, req).message  # the half-open probe fails: open again
    assert breaker.state == "open" and provider.count("/flap") == 4
    provider.healthy = True
    assert "en pausa" in one(service, req).message
    clock.advance(timedelta(seconds=31))
    assert isinstance(one(service, req), Fetched)
    assert breaker.state == "closed" and breaker.consecutive == 0 and provider.count("/flap") == 5
    assert state.breakers.peek("flap", "zeta") is None  # per API and tenant


def test_tenant_credentials_and_answers_never_cross(provider, state, bsettings, clock):
    body = (f"url: {provider.url('/tenant-erp')}\n    cache_ttl_s: 600\n"
            "    tenants:\n      acme: {token_env: ACME_ERP_TOKEN}\n      zeta: {token_env: ZETA_ERP_TOKEN}")
    manifest = manifest_for(provider, erp=body)
    env = {"ACME_ERP_TOKEN": "tok-acme-111", "ZETA_ERP_TOKEN": "tok-zeta-222"}
    req = ApiRequest.of("erp", {"start": "2026-11-18"})
    acme = one(service_for(manifest, state, bsettings, clock, "acme", env), req)
    zeta = one(service_for(manifest, state, bsettings, clock, "zeta", env), req)
    assert acme.payload["owner"] == "acme" and zeta.payload["owner"] == "zeta"
    assert zeta.origin == "live" and provider.count("/tenant-erp") == 2  # zeta never got acme's entry
    assert one(service_for(manifest, state, bsettings, clock, "acme", env), req).payload["owner"] == "acme"
    other = one(service_for(manifest, state, bsettings, clock, "other", env), req)
    assert "no está habilitada" in other.message
    acme_env_only = {"ACME_ERP_TOKEN": "tok-acme-111"}
    only_acme = one(service_for(manifest, state, bsettings, clock, "zeta", acme_env_only),
                    ApiRequest.of("erp", {"start": "2026-11-19"}))
    assert "ZETA_ERP_TOKEN" in only_acme.message  # zeta never falls back to acme's token
    assert provider.count("/tenant-erp") == 2


def test_disabled_entry_is_a_clear_error(provider, state, bsettings, clock):
    manifest = manifest_for(provider, disabled_api=f"url: {provider.url('/fx')}\n    enabled: false")
    result = one(service_for(manifest, state, bsettings, clock), ApiRequest.of("disabled_api"))
    assert "deshabilitada" in result.message and provider.calls == []


def test_bad_manifest_entries_are_reported_and_others_still_work(provider, state, bsettings, clock, tmp_path):
    text = f"""
apis:
  good: {{url: "{provider.url('/fx')}", internal: true}}
  no_scheme: {{url: "ftp://x"}}
  bad_timeout: {{url: "http://127.0.0.1:1/x", timeout_s: -1, internal: true}}
  extra_key: {{url: "http://127.0.0.1:1/x", retry: 3, internal: true}}
  bad_env: {{url: "http://127.0.0.1:1/x", token_env: "lower-case", internal: true}}
"""
    path = tmp_path / "external_apis.yml"
    path.write_text(text)
    manifest = load_manifest(path)
    assert set(manifest.apis) == {"good"}
    assert set(manifest.errors) == {"no_scheme", "bad_timeout", "extra_key", "bad_env"}
    assert "http://" in manifest.errors["no_scheme"]
    assert "timeout_s" in manifest.errors["bad_timeout"]
    service = service_for(manifest, state, bsettings, clock)
    good, bad = ApiRequest.of("good"), ApiRequest.of("bad_timeout")
    results = fetch(service, good, bad)
    assert results[good].payload["base"] == "USD"
    assert "configuración inválida" in results[bad].message
    assert len(manifest.messages()) == 4


@pytest.mark.parametrize("text", ["apis: [1, 2", "just a string", "apis: 3"])
def test_unusable_manifest_file_is_a_message(text, tmp_path):
    path = tmp_path / "external_apis.yml"
    path.write_text(text)
    manifest = load_manifest(path)
    assert manifest.apis == {}
    assert manifest.file_error and "external_apis.yml" in manifest.file_error
    assert manifest.problem("fx") == manifest.file_error


def test_missing_manifest_file(tmp_path):
    assert "not found" in load_manifest(tmp_path / "nope.yml").file_error
    assert "not found" in ManifestLoader().load(tmp_path / "nope.yml").file_error


def test_manifest_reloads_when_file_changes(tmp_path):
    loader = ManifestLoader()
    path = tmp_path / "external_apis.yml"
    path.write_text("apis:\n  a: {url: 'https://example.com/a'}\n")
    first = loader.load(path)
    assert set(first.apis) == {"a"} and loader.load(path) is first
    path.write_text("apis:\n  b: {url: 'https://example.com/b'}\n")
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10_000_000))
    assert set(loader.load(path).apis) == {"b"}


def test_shipped_manifest_is_valid():
    from core.settings import PROJECT_ROOT

    manifest = load_manifest(PROJECT_ROOT / "config" / "external_apis.yml")
    assert manifest.messages() == []
    assert {"fx_rates", "erp_plans", "erp_orders"} <= set(manifest.apis)
    public = [s for s in manifest.apis.values() if not s.is_local]
    assert public and all(not s.enabled and s.url.startswith("https://") for s in public)
